import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ControlDatabase } from '../../src/control/database.js';
import { SharedDeployments } from '../../src/control/deployments.js';
import { openDatabase } from '../../src/store/database.js';
import { type Deployment, DeploymentStore } from '../../src/store/deployments.js';
import { cleanupsAfterEach, quietLog } from '../helpers/cleanups.js';
import { controlPostgresSuite, hasPostgres } from '../helpers/postgres.js';

const T0 = Date.UTC(2026, 11, 4, 12);

const cleanups = cleanupsAfterEach();

describe.runIf(hasPostgres())('deployment markers shared in PostgreSQL', () => {
  const suite = controlPostgresSuite({ timeoutMs: 10_000, leaseCheckMs: 100, migrate: true });

  /** One replica: its own SQLite store and pool, sharing what it stores as service.ts wires it. */
  function replica() {
    const local = openDatabase(':memory:');
    const db = new ControlDatabase(suite.settings, quietLog);
    const store = new DeploymentStore(local);
    const shared = new SharedDeployments(db, store);
    const writes: Array<Promise<void>> = [];
    store.onWritten((deployment) => writes.push(shared.write(deployment)));
    cleanups.push(async () => {
      await db.close();
      local.close();
    });
    /** Resolves once everything this replica stored is in PostgreSQL. */
    const shareWritten = () => Promise.all(writes.splice(0));
    return { store, shared, shareWritten };
  }

  const marker = (id: string, version: string, deployedAtMs: number) => ({
    id,
    service: 'checkout',
    environment: 'prod',
    version,
    deployedAtMs,
    decisionId: `decision-${id}`,
    changeType: 'config' as const,
    commitAtMs: deployedAtMs - 60_000,
  });

  it('copies a marker written through one replica to the other, and the CI report that replaces it', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_deployments');
    const a = replica();
    const b = replica();
    expect(a.store.mark(marker('m1', 'v1', T0))).toBe(true);
    await a.shareWritten();

    expect(await b.shared.refresh()).toBe(1);
    const [copied] = b.store.list({ service: 'checkout', limit: 10 });
    expect(copied).toEqual<Deployment>({ ...marker('m1', 'v1', T0), source: 'gate' });
    // Nothing new: the next read copies nothing.
    expect(await b.shared.refresh()).toBe(0);

    // A replica that marked the same release before it heard of A's: PostgreSQL keeps the first, as one
    // process does.
    const c = replica();
    expect(c.store.mark(marker('m2', 'v1', T0 + 1))).toBe(true);
    expect(b.store.mark(marker('m3', 'v2', T0 + 2))).toBe(true);
    await Promise.all([b.shareWritten(), c.shareWritten()]);

    // CI reports the first release through B: the marker of its decision goes on every replica.
    b.store.record({
      id: 'r1',
      service: 'checkout',
      environment: 'prod',
      version: 'v1',
      deployedAtMs: T0 + 5,
      decisionId: 'decision-m1',
    });
    await b.shareWritten();
    await a.shared.refresh();
    expect(
      a.store.list({ service: 'checkout', limit: 10 }).map((d) => [d.id, d.source, d.changeType]),
    ).toEqual([
      ['r1', 'api', 'config'],
      ['m3', 'gate', 'config'],
    ]);
    expect(
      (await suite.postgres.query('sloguard', 'SELECT id FROM control_deployments ORDER BY id')).rows,
    ).toEqual([{ id: 'm3' }, { id: 'r1' }]);
  });

  it('never passes over a marker whose transaction commits after a later one', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_deployments');
    const a = replica();
    const b = replica();
    const slow = new pg.Client({ connectionString: suite.postgres.url });
    await slow.connect();
    cleanups.push(() => slow.end());
    // A replica's write that has begun and not committed yet...
    await slow.query('BEGIN');
    await slow.query(
      `INSERT INTO control_deployments (id, service, environment, version, deployed_at_ms, source, change_type)
       VALUES ('late', 'checkout', 'prod', 'v1', $1, 'gate', 'feature')`,
      [T0],
    );
    // ...while another commits.
    a.store.mark(marker('early', 'v2', T0 + 1));
    await a.shareWritten();
    expect(await b.shared.refresh()).toBe(0);

    await slow.query('COMMIT');
    expect(await b.shared.refresh()).toBe(2);
    expect(b.store.list({ limit: 10 }).map((d) => d.id)).toEqual(['early', 'late']);
  });

  it('prunes the shared markers past their retention or cap', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_deployments');
    const a = replica();
    for (let i = 0; i < 4; i++) a.store.mark(marker(`m${i}`, `v${i}`, T0 + i * 1_000));
    await a.shareWritten();
    expect(await a.shared.prune(T0 + 1_000, 10)).toBe(1);
    expect(await a.shared.prune(T0, 2)).toBe(1);
    const left = await suite.postgres.query('sloguard', 'SELECT id FROM control_deployments ORDER BY id');
    expect(left.rows).toEqual([{ id: 'm2' }, { id: 'm3' }]);
  });
});
