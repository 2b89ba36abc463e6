import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ControlDatabase } from '../../src/control/database.js';
import { SharedDecisions } from '../../src/control/decisions.js';
import { SharedFreezes } from '../../src/control/freezes.js';
import { SharedOverrides } from '../../src/control/overrides.js';
import { DeployGate } from '../../src/gate/gate.js';
import { type FreezeState, freezeKey } from '../../src/store/gateFreezes.js';
import { cleanupsAfterEach, quietLog } from '../helpers/cleanups.js';
import { gateApp } from '../helpers/gateFixtures.js';
import { controlPostgresSuite, hasPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const PRODUCTION = { service: 'web', environment: 'production', changeType: 'feature' } as const;
const SCOPE = { service: 'web', environment: 'production' };

const cleanups = cleanupsAfterEach();

describe.runIf(hasPostgres())("a gate decision's freeze change on a real PostgreSQL", () => {
  const suite = controlPostgresSuite({ timeoutMs: 10_000, leaseCheckMs: 100, migrate: true });

  const sql = async (text: string, values: unknown[] = []) =>
    (await suite.postgres.query('sloguard', text, values)).rows;

  /** A replica's gate over a budget already spent: its first decision denies and freezes the scope. */
  async function replicaGate() {
    await sql('TRUNCATE control_gate_decisions, control_gate_freezes');
    const app = await gateApp();
    const db = new ControlDatabase(suite.settings, quietLog);
    cleanups.push(async () => {
      await db.close();
      await app.close();
    });
    await app.traffic(0, 100);
    const freezes = new SharedFreezes(db);
    const overrides = new SharedOverrides(db);
    const { evaluator, definitions, stores } = app.sloguard;
    const gate = new DeployGate(
      evaluator,
      definitions,
      {
        ...stores,
        decisions: new SharedDecisions(db),
        shared: {
          active: (service, environment, sha, nowMs) => overrides.active(service, environment, sha, nowMs),
          freeze: (scope) => freezes.get(scope),
          shareFreeze: (state) => freezes.share(state),
        },
      },
      quietLog,
    );
    return { gate, localFreezes: stores.freezes };
  }

  /** What PostgreSQL holds of the decisions and the scope's freeze. */
  const shared = async () => ({
    decisions: (await sql('SELECT id FROM control_gate_decisions')).map((row) => row.id as string),
    freezes: await sql(
      'SELECT frozen, changed_at_ms::float8 AS at FROM control_gate_freezes WHERE service = $1 AND environment = $2',
      [SCOPE.service, SCOPE.environment],
    ),
  });

  // Either write of the pair failing: the freeze's upsert (first) or the audit row's INSERT (second).
  it.each(['control_gate_freezes', 'control_gate_decisions'])(
    'commits neither the audit row nor the freeze when the write to %s fails',
    async (table) => {
      const { gate, localFreezes } = await replicaGate();
      await sql(`CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
      await sql(`CREATE TRIGGER refuse_write BEFORE INSERT ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_write()`);
      cleanups.push(async () => void (await sql('DROP FUNCTION IF EXISTS refuse_write() CASCADE')));

      const refused = await gate.decideCommitted(PRODUCTION);
      expect(refused.decision).toBe('deny');
      expect(refused.reason).toContain('the decision cannot be recorded (injected failure)');
      expect(await shared()).toEqual({ decisions: [], freezes: [] });
      // The replica's own copy forgets the freeze its unrecorded decision made.
      expect(localFreezes.isFrozen(SCOPE)).toBeUndefined();

      await sql(`DROP TRIGGER refuse_write ON ${table}`);
      const recorded = await gate.decideCommitted(PRODUCTION);
      expect(recorded).toMatchObject({ decision: 'deny', frozen: true });
      expect(await shared()).toEqual({
        decisions: [recorded.id],
        freezes: [{ frozen: true, at: recorded.decidedAtMs }],
      });
    },
  );

  it('commits neither when the connection is killed between the freeze and the audit row', async () => {
    const { gate, localFreezes } = await replicaGate();
    // Another session holds the audit table, so the decision's INSERT waits after its freeze upsert ran.
    const holder = new pg.Client({ connectionString: suite.postgres.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE control_gate_decisions IN EXCLUSIVE MODE');

    const answer = gate.decideCommitted(PRODUCTION);
    const waiting = await waitFor('the decision INSERT to wait on the table lock', async () => {
      const rows = await sql(
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'sloguard' AND wait_event_type = 'Lock'
           AND query LIKE 'INSERT INTO control_gate_decisions%'`,
      );
      return rows[0]?.pid as number | undefined;
    });
    // Its transaction took the freezes' change-order lock: the freeze upsert had run, not yet committed.
    expect(
      await sql(
        `SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND objsubid = 2 AND granted`,
        [waiting],
      ),
    ).toHaveLength(1);
    await sql('SELECT pg_terminate_backend($1)', [waiting]);
    const killed = await answer;
    expect(killed.decision).toBe('deny');
    expect(killed.reason).toContain('the decision cannot be recorded');
    await holder.query('COMMIT');
    expect(await shared()).toEqual({ decisions: [], freezes: [] });
    expect(localFreezes.isFrozen(SCOPE)).toBeUndefined();

    const recorded = await gate.decideCommitted(PRODUCTION);
    expect(await shared()).toEqual({
      decisions: [recorded.id],
      freezes: [{ frozen: true, at: recorded.decidedAtMs }],
    });
  });

  it("retries the lease holder's refresh until PostgreSQL takes it, and drops a change replaced since", async () => {
    await sql('TRUNCATE control_gate_freezes');
    // Short statements: a write held by the lock below fails within half a second.
    const db = new ControlDatabase({ ...suite.settings, statementTimeoutMs: 500 }, quietLog);
    cleanups.push(() => db.close());
    const warnings: object[] = [];
    const replaced = new Set<string>();
    const freezes = new SharedFreezes(db, {
      isCurrent: (state) => !replaced.has(freezeKey(state)),
      log: { warn: (details) => void warnings.push(details) },
    });
    cleanups.push(() => freezes.stop());
    const locker = new pg.Client({ connectionString: suite.postgres.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE control_gate_freezes IN ACCESS EXCLUSIVE MODE');

    const canary: FreezeState = { service: 'web', environment: 'canary', frozen: true, changedAtMs: 1_000 };
    const edge: FreezeState = { service: 'web', environment: 'edge', frozen: true, changedAtMs: 1_000 };
    freezes.share(canary);
    freezes.share(edge);
    await waitFor('two failed writes', () => warnings.length >= 2);
    expect(freezes.waiting).toBe(2);
    // Another replica's change to edge was adopted meanwhile: this one's is no longer the scope's state.
    replaced.add(freezeKey(edge));
    await locker.query('COMMIT');

    await waitFor('the retry to write the waiting change', () => freezes.waiting === 0, { intervalMs: 100 });
    await freezes.settled();
    expect(
      await sql('SELECT environment, frozen, changed_at_ms::float8 AS at FROM control_gate_freezes'),
    ).toEqual([{ environment: 'canary', frozen: true, at: 1_000 }]);
  });
});
