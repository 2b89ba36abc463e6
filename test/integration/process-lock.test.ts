import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, startAlertingSloguard, ticks } from '../helpers/alertScenario.js';
import { nginxLine } from '../helpers/app.js';
import { CaptureServer } from '../helpers/capture.js';
import { freePort } from '../helpers/ports.js';
import { runCli, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** Every row of every table, hashed: equal before and after means nothing was written. */
function fingerprint(databasePath: string): { rows: number; digest: string } {
  const db = new Database(databasePath, { readonly: true });
  try {
    const hash = createHash('sha256');
    let rows = 0;
    const tables = db
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
      .pluck()
      .all() as string[];
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM "${table}"`).raw().all()) {
        rows += 1;
        hash.update(
          `${table}:${JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))}\n`,
        );
      }
    }
    return { rows, digest: hash.digest('hex') };
  } finally {
    db.close();
  }
}

describe('a process that cannot serve exits before it touches the database', () => {
  const dir = tempDir('sloguard-listen-');
  let blocker: Server;
  let takenPort: number;
  afterAll(async () => {
    await new Promise((resolve) => blocker?.close(resolve));
    dir.cleanup();
  });

  it('a taken port: exit 1 within seconds with one line naming the address; no row written', async () => {
    const databasePath = join(dir.path, 'sloguard.db');
    // A database with history, statuses and decisions from an earlier run, stopped cleanly.
    const earlier = await SloguardProcess.start({ databasePath });
    const ingested = await fetch(`${earlier.url}/api/v1/ingest/lb?format=nginx&service=user-profile`, {
      method: 'POST',
      body: `${nginxLine(Date.now() - 1000, 'GET', '/profile/1', 500, 0.01)}\n`,
    });
    expect(ingested.status).toBe(202);
    expect((await fetch(`${earlier.url}/api/v1/gate?service=user-profile`)).status).toBeLessThan(500);
    await earlier.stop();
    const before = fingerprint(databasePath);
    expect(before.rows).toBeGreaterThan(0);

    const baseline = await runCli(['validate', earlier.definitions], {});
    takenPort = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(takenPort, '127.0.0.1', resolve));
    const run = await runCli(['serve'], {
      SLOGUARD_PORT: String(takenPort),
      SLOGUARD_DATABASE: databasePath,
      SLOGUARD_DEFINITIONS: earlier.definitions,
      SLOGUARD_EVALUATION_INTERVAL: '1s',
    });
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(Math.max(10_000, baseline.ms + 5_000));
    expect(run.stderr.trim()).toBe(
      `sloguard: cannot listen on 127.0.0.1:${takenPort}: the port is in use (EADDRINUSE)`,
    );
    expect(fingerprint(databasePath)).toEqual(before);
    // The lock went with it: the database can be served again.
    const again = await SloguardProcess.start({ databasePath, definitions: earlier.definitions });
    await again.stop();
    await earlier.cleanup();
  });
});

describe('one process per database', () => {
  let capture: CaptureServer;
  let first: SloguardProcess;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;

  beforeAll(async () => {
    capture = await CaptureServer.start();
    const started = await startAlertingSloguard(`  repeatInterval: 1h
  targets:
    chat: { kind: webhook, url: "${capture.url}/hooks/chat" }
`);
    first = started.service;
    cleanup = started.cleanup;
    env = {
      SLOGUARD_DATABASE: first.databasePath,
      SLOGUARD_DEFINITIONS: first.definitions,
      SLOGUARD_CONFIG: join(first.definitions, '..', 'sloguard.yaml'),
      SLOGUARD_EVALUATION_INTERVAL: '1s',
    };
    await ingest(first, 96, 4);
    await waitFor('the ticket', () => capture.accepted().length === 1);
  });

  afterAll(async () => {
    await cleanup();
    await capture.stop();
  });

  it('a second serve refuses within 10 s naming the database and the PID; the first alerts once', async () => {
    // The CLI's own start (module loading) as a yardstick: on a loaded machine it alone can take seconds.
    const baseline = await runCli(['validate'], env);
    const second = await runCli(['serve'], { ...env, SLOGUARD_PORT: String(await freePort()) });
    expect(second.code).toBe(1);
    expect(second.ms).toBeLessThan(Math.max(10_000, baseline.ms + 5_000));
    expect(second.stderr).toContain(
      `database ${first.databasePath} is in use by sloguard serve (PID ${first.pid} `,
    );
    await ticks(first, 3);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    expect(capture.accepted()).toHaveLength(1);
  });

  it('import refuses a held database and says how to send the lines instead', async () => {
    const logs = tempDir('sloguard-import-');
    try {
      const file = logs.file('access.log', '');
      const run = await runCli(['import', '--format', 'nginx', '--service', 'shop', file], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`(PID ${first.pid} `);
      expect(run.stderr).toContain('/api/v1/ingest/lb');
    } finally {
      logs.cleanup();
    }
  });

  it('commands that only read keep working beside the service', async () => {
    const validate = await runCli(['validate'], env);
    expect(validate.stdout).toMatch(/^ok: 1 SLOs in 1 files/);
    expect(validate.code).toBe(0);
    const status = await runCli(['status', '--url', first.url], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^shop\s+shop-availability\s+\S+/m);
    const rules = await runCli(['rules', '--format', 'prometheus'], env);
    expect(rules.code).toBe(0);
  });
});
