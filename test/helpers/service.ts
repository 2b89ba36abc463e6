import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SERVE_NODE_FLAGS } from '../../src/cli/nodeFlags.js';
import { exitedError, freePort, onFreePorts } from './ports.js';
import { type ChildExit, stopChild } from './process.js';
import { tempDir } from './tmp.js';
import { WAIT_MS, waitFor } from './wait.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');
/** node's arguments that run the CLI the way the bin's shebang does: serve's node flags, then the script. */
export const NODE_CLI_ARGS = [...SERVE_NODE_FLAGS, CLI];
/**
 * Under vitest every answer of the service is checked against its route's declared schema (docs/api.md#openapi);
 * benchmarks, which start it through these helpers too, measure it as it runs in production.
 */
export const CHECK_RESPONSES = process.env.VITEST ? '1' : '0';

/** Builds dist/ once per test run when it is missing (npm test builds it before vitest). */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
}

export interface ServiceOptions {
  /** Folder of SLO files (default: a copy of slo-definitions/). */
  definitions?: string;
  /** Extra SLOGUARD_* variables. */
  env?: Record<string, string>;
  /** How long a start may take (default WAIT_MS; a benchmark's 10,000 SLOs on a loaded machine take longer). */
  readyTimeoutMs?: number;
  /** Reuse a database file (restart tests). */
  databasePath?: string;
  /**
   * The `sloguard` executable to run (default: this checkout's dist/ under this node with serve's node flags, as
   * the bin's shebang and `npm start` run it).
   */
  command?: string;
  /**
   * What a start waits for: `evaluated` (default), ready after this process's first evaluation; `ready`,
   * `/readyz` 200, which may stand on the statuses the last run stored (docs/operations.md#start-up).
   */
  until?: StartedWhen;
}

export type StartedWhen = 'ready' | 'evaluated';

/** A real `sloguard serve` process on a free port, with its own temp database. */
export class SloguardProcess {
  private child: ChildProcess | undefined;
  readonly logs: string[] = [];
  url = '';
  port = 0;
  readyTimeoutMs = WAIT_MS;

  private constructor(
    readonly databasePath: string,
    readonly definitions: string,
    private readonly env: Record<string, string>,
    private readonly dir: ReturnType<typeof tempDir>,
    private readonly command: string[],
  ) {}

  static async start(options: ServiceOptions = {}): Promise<SloguardProcess> {
    ensureBuilt();
    const dir = tempDir('sloguard-svc-');
    const definitions = options.definitions ?? join(dir.path, 'slo-definitions');
    if (!options.definitions) cpSync(join(ROOT, 'slo-definitions'), definitions, { recursive: true });
    const service = new SloguardProcess(
      options.databasePath ?? join(dir.path, 'sloguard.db'),
      definitions,
      options.env ?? {},
      dir,
      options.command ? [options.command] : [process.execPath, ...NODE_CLI_ARGS],
    );
    service.readyTimeoutMs = options.readyTimeoutMs ?? service.readyTimeoutMs;
    await service.restart(options.until);
    return service;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts (again) on a new free port with the same database. The port is free when chosen and bound a moment
   * later, so another test's server can take it in between: a start that lost its port starts again on another.
   */
  async restart(until: StartedWhen = 'evaluated'): Promise<void> {
    await onFreePorts(() => this.startOnce(until));
  }

  private async startOnce(until: StartedWhen): Promise<void> {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const [executable, ...args] = this.command;
    const child = spawn(executable!, [...args, 'serve'], {
      cwd: this.dir.path,
      env: {
        PATH: process.env.PATH,
        SLOGUARD_PORT: String(this.port),
        SLOGUARD_DATABASE: this.databasePath,
        SLOGUARD_DEFINITIONS: this.definitions,
        SLOGUARD_EVALUATION_INTERVAL: '1s',
        SLOGUARD_LOG_LEVEL: 'warn',
        SLOGUARD_CHECK_RESPONSES: CHECK_RESPONSES,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const logged = this.logs.length;
    const output = () => this.logs.slice(logged).join('');
    child.stdout?.on('data', (chunk) => this.logs.push(String(chunk)));
    child.stderr?.on('data', (chunk) => this.logs.push(String(chunk)));
    // Its own start line, written once it listens: until then an answer on the port may be another server's.
    const serving = ` serving ${this.url}/ `;
    let started: 'exited' | 'ready';
    try {
      started = await waitFor(
        `sloguard on ${this.url}`,
        async () => {
          if (child.exitCode !== null) return 'exited';
          if (!output().includes(serving)) return false;
          const readyz = await fetch(`${this.url}/readyz`);
          const body = (await readyz.json()) as { statuses?: string };
          return readyz.ok && (until === 'ready' || body.statuses === 'evaluated') && 'ready';
        },
        { timeoutMs: this.readyTimeoutMs },
      );
    } catch (error) {
      // A start that never got ready leaves no process behind (the caller has no handle to stop it).
      await stopChild(child, 'SIGKILL');
      throw new Error(`${(error as Error).message} (log: ${output().slice(-500)})`);
    }
    if (started === 'exited') throw exitedError('sloguard', child.exitCode, output());
  }

  /** Stops the process: SIGTERM (graceful) by default, SIGKILL for crash tests; says how it ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ChildExit | undefined> {
    return this.child ? await stopChild(this.child, signal) : undefined;
  }

  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    this.dir.cleanup();
  }

  async json<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, init);
    return { status: response.status, body: (await response.json()) as T };
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI to its end (killed after `timeoutMs`, which the caller's assertions then see as code null). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = WAIT_MS): Promise<CliRun> {
  ensureBuilt();
  const started = performance.now();
  const child = spawn(process.execPath, [...NODE_CLI_ARGS, ...args], {
    env: { PATH: process.env.PATH, SLOGUARD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    }),
  );
}
