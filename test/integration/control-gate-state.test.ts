import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlDatabase } from '../../src/control/database.js';
import { SharedFreezes, upsertFreezes } from '../../src/control/freezes.js';
import type { FreezeState } from '../../src/store/gateFreezes.js';
import { quietLog } from '../helpers/cleanups.js';
import { hasPostgres, PostgresServer } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

/** A freeze or thaw in a transaction of its own, as a decision's commit writes it (a row already in that state keeps its time). */
const writeFreeze = (db: ControlDatabase, state: FreezeState) =>
  db.transaction((client) => upsertFreezes(client, [state]));

describe.runIf(hasPostgres())('the gate freezes on a real PostgreSQL', () => {
  let postgres: PostgresServer;
  let db: ControlDatabase;

  beforeAll(async () => {
    postgres = await PostgresServer.start();
    db = new ControlDatabase(
      {
        url: postgres.url,
        poolSize: 4,
        statementTimeoutMs: 2_000,
        connectTimeoutMs: 2_000,
        leaseCheckMs: 100,
      },
      quietLog,
    );
    await db.migrate();
  });
  afterAll(async () => {
    await db?.close();
    await postgres?.stop();
  });

  it('keeps when a scope froze, and tells each replica every change once', async () => {
    const a = new SharedFreezes(db);
    const b = new SharedFreezes(db);
    const scope = { service: 'web', environment: 'production' };
    expect(await a.get(scope)).toBeUndefined();
    await writeFreeze(db, { ...scope, frozen: true, changedAtMs: 1_000 });
    // Another replica's decision on the same statuses finds it frozen already: the time it froze stands.
    await writeFreeze(db, { ...scope, frozen: true, changedAtMs: 2_000 });
    expect(await b.get(scope)).toEqual({ ...scope, frozen: true, changedAtMs: 1_000 });
    expect(await b.changes()).toEqual([{ ...scope, frozen: true, changedAtMs: 1_000 }]);
    expect(await b.changes()).toEqual([]);
    // Two replicas thawing and freezing at once: both writes land, in one order, and each is read once.
    await Promise.all([
      writeFreeze(db, { ...scope, frozen: false, changedAtMs: 3_000 }),
      writeFreeze(db, { service: 'web', environment: 'staging', frozen: true, changedAtMs: 3_000 }),
    ]);
    const seen = await b.changes();
    expect(seen).toHaveLength(2);
    expect(seen).toEqual(
      expect.arrayContaining([
        { ...scope, frozen: false, changedAtMs: 3_000 },
        { service: 'web', environment: 'staging', frozen: true, changedAtMs: 3_000 },
      ]),
    );
    expect(await a.changes()).toHaveLength(2);
  });

  it('never lets a replica read past a change number still to commit', async () => {
    const reader = new SharedFreezes(db);
    await reader.changes();
    // Another replica's freeze write, mid-way: it holds the table's change-order lock and has taken its number.
    const other = await db.pool.connect();
    let settled = false;
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1, 1)', [0x736c6f67]);
      await other.query(
        `INSERT INTO control_gate_freezes (service, environment, frozen, changed_at_ms) VALUES ('api', 'first', true, 5000)`,
      );
      const write = writeFreeze(db, {
        service: 'api',
        environment: 'second',
        frozen: true,
        changedAtMs: 6_000,
      }).finally(() => {
        settled = true;
      });
      // The second write waits for the first to commit, so it cannot commit a later number before it.
      await waitFor('the second write to wait for the lock, or to have gone ahead', async () => {
        const { rows } = await db.pool.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2`,
        );
        return rows.length > 0 || settled;
      });
      expect(await reader.changes()).toEqual([]);
      await other.query('COMMIT');
      await write;
    } finally {
      other.release();
    }
    expect((await reader.changes()).map((state) => state.environment)).toEqual(['first', 'second']);
  });
});
