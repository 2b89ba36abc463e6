import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { ControlPostgres } from '../../src/config/control.js';
import { ControlDatabase } from '../../src/control/database.js';
import { requireBinary } from './nginx.js';
import { exitedError, freePort, onFreePorts } from './ports.js';
import { stopChild } from './process.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin folder (Debian keeps one folder per major version). */
function postgresBin(): string {
  const versions = existsSync(POSTGRES_ROOT)
    ? readdirSync(POSTGRES_ROOT)
        .filter((name) => /^\d+$/.test(name) && existsSync(join(POSTGRES_ROOT, name, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return join(POSTGRES_ROOT, versions[0] ?? 'none', 'bin');
}

/** Whether a real PostgreSQL can run here (CI installs `postgresql` and must not skip). */
export const hasPostgres = () => requireBinary(join(postgresBin(), 'postgres'), 'postgresql');

/** initdb and postgres refuse to run as root: as root they run as the `postgres` user the package creates. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function ownedByServerUser(path: string): void {
  if (process.getuid?.() !== 0) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(path, uid, gid);
}

export const TEST_DATABASE = 'sloguard';

/**
 * A real throwaway PostgreSQL on 127.0.0.1: a fresh cluster in a temp folder (fsync off: a test's data need
 * not survive a power cut), one database, trust authentication for the local user. `stop()` kills it and
 * removes the folder.
 */
export class PostgresServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: ReturnType<typeof tempDir>,
    readonly port: number,
    readonly logs: string[],
  ) {}

  /** A connection URL for the test database, as the service's setting takes it. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${TEST_DATABASE}`;
  }

  static async start(): Promise<PostgresServer> {
    const bin = postgresBin();
    const dir = tempDir('sloguard-postgres-');
    try {
      ownedByServerUser(dir.path);
      const data = join(dir.path, 'data');
      const [initdb, initArgs] = asServerUser(join(bin, 'initdb'), [
        '-D',
        data,
        '-U',
        'postgres',
        '-A',
        'trust',
        '--no-sync',
        '-E',
        'UTF8',
      ]);
      execFileSync(initdb, initArgs, { stdio: 'pipe' });
      return await onFreePorts(() => PostgresServer.startOnce(bin, dir, data));
    } catch (error) {
      dir.cleanup();
      throw error;
    }
  }

  private static async startOnce(
    bin: string,
    dir: ReturnType<typeof tempDir>,
    data: string,
  ): Promise<PostgresServer> {
    const port = await freePort();
    const [command, args] = asServerUser(join(bin, 'postgres'), [
      '-D',
      data,
      '-k',
      dir.path,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ]);
    // Its own process group: stop() kills runuser, the postmaster and every backend at once.
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const logs: string[] = [];
    child.stdout?.on('data', (chunk) => logs.push(String(chunk)));
    child.stderr?.on('data', (chunk) => logs.push(String(chunk)));
    const server = new PostgresServer(child, dir, port, logs);
    try {
      const started = await waitFor(`postgres on 127.0.0.1:${port}`, async () => {
        if (child.exitCode !== null) return 'exited';
        await server.query('postgres', 'SELECT 1');
        return 'ready';
      });
      if (started === 'exited') throw exitedError('postgres', child.exitCode, logs.join(''));
      await server.query('postgres', `CREATE DATABASE ${TEST_DATABASE}`);
    } catch (error) {
      await killGroup(child);
      throw error;
    }
    return server;
  }

  /** Runs one statement on a fresh connection to `database` (the test database by default). */
  async query(database: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${this.port}/${database}`,
      connectionTimeoutMillis: 5_000,
    });
    await client.connect();
    try {
      return await client.query(sql, values);
    } finally {
      await client.end();
    }
  }

  /** The server process holding sloguard's evaluator lease (its advisory lock) in the test database, if any. */
  async leaseHolder(): Promise<number | undefined> {
    const { rows } = await this.query(
      TEST_DATABASE,
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1",
    );
    return rows[0]?.pid as number | undefined;
  }

  /** Kills the whole process group (a throwaway cluster needs no clean shutdown) and removes its folder. */
  async stop(): Promise<void> {
    await killGroup(this.child);
    this.dir.cleanup();
  }
}

async function killGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const exited = stopChild(child, 'SIGKILL');
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
  await exited;
}

/** A suite's PostgreSQL and the control settings that reach it; both set once the suite's beforeAll has run. */
export interface ControlPostgresSuite {
  postgres: PostgresServer;
  settings: ControlPostgres;
}

/**
 * Starts a real PostgreSQL before the calling describe block's tests (its control schema migrated when asked)
 * and stops it after them.
 */
export function controlPostgresSuite(options: {
  timeoutMs: number;
  leaseCheckMs: number;
  migrate?: boolean;
}): ControlPostgresSuite {
  const suite = {} as ControlPostgresSuite;
  beforeAll(async () => {
    suite.postgres = await PostgresServer.start();
    suite.settings = {
      url: suite.postgres.url,
      poolSize: 4,
      statementTimeoutMs: options.timeoutMs,
      connectTimeoutMs: options.timeoutMs,
      leaseCheckMs: options.leaseCheckMs,
    };
    if (!options.migrate) return;
    const db = new ControlDatabase(suite.settings, { info: () => undefined, warn: () => undefined });
    await db.migrate();
    await db.close();
  });
  afterAll(async () => {
    await suite.postgres?.stop();
  });
  return suite;
}
