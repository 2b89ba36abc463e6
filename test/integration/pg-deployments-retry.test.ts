import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ControlDatabase } from '../../src/control/database.js';
import { DeploymentSharing, SharedDeployments } from '../../src/control/deployments.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { DeploymentStore } from '../../src/store/deployments.js';
import { UnsharedDeployments } from '../../src/store/unsharedDeployments.js';
import { cleanupsAfterEach, quietLog } from '../helpers/cleanups.js';
import { freePort } from '../helpers/ports.js';
import { controlPostgresSuite, hasPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const T0 = Date.UTC(2026, 11, 4, 12);

const cleanups = cleanupsAfterEach();

describe.runIf(hasPostgres())('deployment markers retried until PostgreSQL takes them', () => {
  const suite = controlPostgresSuite({ timeoutMs: 10_000, leaseCheckMs: 100, migrate: true });

  /**
   * One replica as service.ts wires it: its SQLite store queues what it stores, and the sharing writes the
   * queue to PostgreSQL (`url`: the suite's by default); statements end after half a second.
   */
  function replica(options: { local?: Db; url?: string; cap?: number } = {}) {
    const local = options.local ?? openDatabase(':memory:');
    const db = new ControlDatabase(
      {
        ...suite.settings,
        url: options.url ?? suite.settings.url,
        statementTimeoutMs: 500,
        connectTimeoutMs: 500,
      },
      quietLog,
    );
    const store = new DeploymentStore(local);
    const shared = new SharedDeployments(db, store);
    const warnings: string[] = [];
    const sharing = new DeploymentSharing(shared, new UnsharedDeployments(local, options.cap ?? 10_000), {
      warn: (_, message) => void warnings.push(message),
    });
    store.onWritten((deployment) => sharing.add(deployment));
    cleanups.push(async () => {
      await sharing.stop();
      await db.close();
      if (!options.local) local.close();
    });
    return { store, shared, sharing, warnings };
  }

  const marker = (id: string, version: string, deployedAtMs: number) => ({
    id,
    service: 'checkout',
    environment: 'prod',
    version,
    deployedAtMs,
    decisionId: `decision-${id}`,
  });

  const sharedIds = async () =>
    (await suite.postgres.query('sloguard', 'SELECT id FROM control_deployments ORDER BY id')).rows.map(
      (row) => row.id as string,
    );

  it('a marker and CI reports stored while the table is locked reach the other replica once, in order', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_deployments');
    const a = replica();
    const b = replica();
    // Another session holds the table against writes (reads go on): every write of A's times out.
    const locker = new pg.Client({ connectionString: suite.postgres.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE control_deployments IN EXCLUSIVE MODE');

    // A release allowed (the gate's marker), a CI report of another, and a release whose report replaces
    // its marker.
    expect(a.store.mark(marker('m1', 'v1', T0))).toBe(true);
    a.store.record({ ...marker('r2', 'v2', T0 + 1), decisionId: null });
    expect(a.store.mark(marker('m3', 'v3', T0 + 2))).toBe(true);
    a.store.record({ ...marker('r3', 'v3', T0 + 3), decisionId: 'decision-m3' });
    // A repeated gate call for the first release keeps its first marker, and queues nothing.
    expect(a.store.mark(marker('m1-again', 'v1', T0 + 4))).toBe(false);
    await waitFor('two failed writes', () => a.warnings.length >= 2);
    expect(a.sharing.waiting).toBe(4);
    expect(await b.shared.refresh()).toBe(0);

    await locker.query('COMMIT');
    const backAt = performance.now();
    await waitFor('the queue to drain', () => a.sharing.waiting === 0, { intervalMs: 100 });
    await b.shared.refresh();
    // Bounded by the retry pause after the failures seen (the first two: 250 ms, 500 ms), far below 30 s.
    expect(performance.now() - backAt).toBeLessThan(30_000);
    expect(b.store.list({ limit: 10 }).map((d) => [d.id, d.source])).toEqual([
      ['r3', 'api'],
      ['r2', 'api'],
      ['m1', 'gate'],
    ]);
    expect(await sharedIds()).toEqual(['m1', 'r2', 'r3']);
    expect(a.warnings.every((message) => message.startsWith('deployments not shared yet'))).toBe(true);
  });

  it('keeps what waits in the SQLite file, and a restarted replica sends it', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_deployments');
    const dir = tempDir('sloguard-unshared-');
    cleanups.push(() => dir.cleanup());
    const path = join(dir.path, 'replica.db');
    // Nothing listens on this port: every connection is refused.
    const refused = `postgres://postgres@127.0.0.1:${await freePort()}/sloguard`;
    const before = openDatabase(path);
    const down = replica({ local: before, url: refused });
    down.store.mark(marker('m1', 'v1', T0));
    await waitFor('a refused write', () => down.warnings.length >= 1);
    await down.sharing.stop();
    before.close();

    const after = openDatabase(path);
    cleanups.push(() => {
      after.close();
    });
    const restarted = replica({ local: after });
    expect(restarted.sharing.waiting).toBe(1);
    restarted.sharing.start();
    await waitFor('the queue to drain', () => restarted.sharing.waiting === 0, { intervalMs: 100 });
    expect(await sharedIds()).toEqual(['m1']);
  });

  it('drops the oldest past the cap, logged and counted', async () => {
    const refused = `postgres://postgres@127.0.0.1:${await freePort()}/sloguard`;
    const a = replica({ url: refused, cap: 3 });
    const registry = new Registry();
    a.sharing.meter(registry);
    for (let i = 0; i < 5; i++) a.store.mark(marker(`m${i}`, `v${i}`, T0 + i));
    expect(a.sharing.waiting).toBe(3);
    expect(a.warnings.filter((message) => message.includes('the oldest waiting were dropped'))).toHaveLength(
      2,
    );
    const metrics = await registry.metrics();
    expect(metrics).toContain('sloguard_control_deployments_dropped_total 2');
    expect(metrics).toContain('sloguard_control_deployments_unshared 3');
  });
});
