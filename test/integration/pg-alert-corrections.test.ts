import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedCorrections } from '../../src/control/corrections.js';
import { ControlDatabase } from '../../src/control/database.js';
import type { CorrectionSpec } from '../../src/definitions/corrections.js';
import { CorrectionStore } from '../../src/store/corrections.js';
import { openDatabase } from '../../src/store/database.js';
import { cleanupsAfterEach, quietLog } from '../helpers/cleanups.js';
import { hasPostgres, PostgresServer } from '../helpers/postgres.js';

const SPEC: CorrectionSpec = {
  reason: 'nightly maintenance',
  mode: 'exclude',
  window: { cron: '0 3 * * *', timeZone: 'UTC', duration: '30m' },
  appliesTo: { services: ['web'] },
};

const cleanups = cleanupsAfterEach();

describe.runIf(hasPostgres())('corrections on PostgreSQL, copied by every replica', () => {
  let postgres: PostgresServer;

  beforeAll(async () => {
    postgres = await PostgresServer.start();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  /** A replica: its own SQLite correction store (what its evaluator and API read) and pool on the shared one. */
  async function replica() {
    const db = new ControlDatabase(
      {
        url: postgres.url,
        poolSize: 2,
        statementTimeoutMs: 10_000,
        connectTimeoutMs: 10_000,
        leaseCheckMs: 500,
      },
      quietLog,
    );
    await db.migrate();
    const local = openDatabase(':memory:');
    cleanups.push(async () => {
      local.close();
      await db.close();
    });
    const store = new CorrectionStore(local, { corrections: [] });
    return { store, shared: new SharedCorrections(db, store) };
  }

  it('added on one replica, in force on the other after a refresh; deleted there, gone on the first', async () => {
    const a = await replica();
    const b = await replica();
    const created = await a.shared.create(SPEC, 'sre-alice', 1_000);
    expect(created).toMatchObject({
      origin: 'api',
      actor: 'sre-alice',
      reason: SPEC.reason,
      deletedAtMs: null,
    });
    expect(a.store.all().map((c) => c.id)).toEqual([created!.id]);
    expect(b.store.all()).toEqual([]);

    expect(await b.shared.refresh()).toBe(1);
    expect(b.store.all().map((c) => c.id)).toEqual([created!.id]);

    expect(await b.shared.delete(created!.id, 'sre-bob', 2_000)).toMatchObject({
      id: created!.id,
      deletedBy: 'sre-bob',
      deletedAtMs: 2_000,
    });
    expect(b.store.all()).toEqual([]);
    expect(await a.shared.refresh()).toBe(1);
    expect(a.store.all()).toEqual([]);
    expect(a.store.list()).toMatchObject([{ id: created!.id, deletedBy: 'sre-bob' }]);

    expect(await a.shared.delete(created!.id, 'sre-alice', 3_000)).toBe('already-deleted');
    expect(await a.shared.delete('no-such-correction', 'sre-alice', 3_000)).toBe('unknown');
    expect(await a.shared.refresh()).toBe(0);
  });
});
