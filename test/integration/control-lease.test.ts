import { describe, expect, it } from 'vitest';
import { ControlDatabase } from '../../src/control/database.js';
import { EvaluatorLease } from '../../src/control/lease.js';
import { CONTROL_SCHEMA } from '../../src/control/schema.js';
import { SharedStatuses } from '../../src/control/statuses.js';
import type { SloStatus } from '../../src/model/status.js';
import { quietLog } from '../helpers/cleanups.js';
import { controlPostgresSuite, hasPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

describe.runIf(hasPostgres())('the control plane foundation on a real PostgreSQL', () => {
  const suite = controlPostgresSuite({ timeoutMs: 2_000, leaseCheckMs: 100 });

  it('two replicas migrating at once apply each step once', async () => {
    const a = new ControlDatabase(suite.settings, quietLog);
    const b = new ControlDatabase(suite.settings, quietLog);
    try {
      const [first, second] = await Promise.all([a.migrate(), b.migrate()]);
      const all = CONTROL_SCHEMA.map((step) => step.version);
      expect([...first, ...second].sort((x, y) => x - y)).toEqual(all);
      expect(await a.migrate()).toEqual([]);
      const { rows } = await suite.postgres.query(
        'sloguard',
        'SELECT version FROM control_schema ORDER BY version',
      );
      expect(rows.map((row) => row.version)).toEqual(all);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a migration list out of order fails before it touches the database', async () => {
    const db = new ControlDatabase(suite.settings, quietLog);
    try {
      await expect(
        db.migrate([
          { version: 2, description: 'b', sql: 'SELECT 1' },
          { version: 1, description: 'a', sql: 'SELECT 1' },
        ]),
      ).rejects.toThrow(/versions must ascend/);
    } finally {
      await db.close();
    }
  });

  it('one replica holds the lease; when its session dies one replica takes it again, never two', async () => {
    const a = new EvaluatorLease(suite.settings, quietLog);
    const b = new EvaluatorLease(suite.settings, quietLog);
    const lost: string[] = [];
    a.on('lost', (reason) => lost.push(reason));
    let both = 0;
    const sampling = setInterval(() => {
      if (a.isHolder() && b.isHolder()) both += 1;
    }, 5);
    try {
      a.start();
      await waitFor('replica a to hold the lease', () => a.isHolder());
      b.start();
      // b tries several times while a holds it.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(b.isHolder()).toBe(false);
      // The server ends a's session (as when its process is killed): a gives up at once, and the next try of
      // either replica (a reconnects as a follower) takes the freed lock.
      const pid = a.holderPid();
      expect(pid).toBeGreaterThan(0);
      const killedAt = Date.now();
      await suite.postgres.query('sloguard', 'SELECT pg_terminate_backend($1)', [pid]);
      await waitFor('replica a to give the lease up', () => !a.holderPid() || a.holderPid() !== pid);
      expect(lost[0]).toMatch(/lease connection/);
      const holder = await waitFor('a replica to take the lease again', () =>
        a.isHolder() ? a : b.isHolder() ? b : undefined,
      );
      // Well within a few checks of 100 ms, with room for a loaded machine.
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      // The holder's stop releases it to the other at once.
      const other = holder === a ? b : a;
      await holder.stop();
      await waitFor('the other replica to take the released lease', () => other.isHolder());
      expect(both).toBe(0);
    } finally {
      clearInterval(sampling);
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('shares the holder statuses: fenced on its lease, read by revision whatever the evaluation times', async () => {
    const db = new ControlDatabase(suite.settings, quietLog);
    const lease = new EvaluatorLease(suite.settings, quietLog);
    const status = (name: string, evaluatedAtMs: number) => ({ name, evaluatedAtMs }) as SloStatus;
    try {
      await db.migrate();
      const writer = new SharedStatuses(db);
      const reader = new SharedStatuses(db);
      lease.start();
      await waitFor('the lease', () => lease.isHolder());
      const pid = lease.holderPid()!;
      expect(await writer.write([status('checkout', 2_000), status('search', 2_000)], pid)).toBe(true);
      expect(await reader.refresh()).toBe(2);
      expect(reader.get('checkout')?.evaluatedAtMs).toBe(2_000);
      expect(await reader.refresh()).toBe(0);
      // A new holder whose clock is behind: its statuses carry older times and are still read.
      expect(await writer.write([status('checkout', 1_000)], pid)).toBe(true);
      expect(await reader.refresh()).toBe(1);
      expect(reader.get('checkout')?.evaluatedAtMs).toBe(1_000);
      // A session that does not hold the lease writes nothing.
      expect(await writer.write([status('checkout', 3_000)], pid + 1)).toBe(false);
      await lease.stop();
      expect(await writer.write([status('checkout', 3_000)], pid)).toBe(false);
      expect(await reader.refresh()).toBe(0);
      expect(reader.get('checkout')?.evaluatedAtMs).toBe(1_000);
    } finally {
      await lease.stop();
      await db.close();
    }
  });
});
