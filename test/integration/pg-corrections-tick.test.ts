import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { gateApp } from '../helpers/gateFixtures.js';
import { controlPostgresSuite, hasPostgres } from '../helpers/postgres.js';

const MINUTE = 60_000;
const SLO = 'web-availability';

const cleanups = cleanupsAfterEach();

describe.runIf(hasPostgres())('a correction made through another replica counts in the next tick', () => {
  const suite = controlPostgresSuite({ timeoutMs: 10_000, leaseCheckMs: 100, migrate: true });

  /** A replica in this process on the suite's PostgreSQL; no background job runs (no periodic copy). */
  async function replica(logged: string[] = []) {
    const app = await gateApp({ control: { postgres: suite.settings } }, undefined, {
      logLevel: 'warn',
      logStream: { write: (line) => void logged.push(line) },
    });
    cleanups.push(async () => {
      await app.close();
      await app.sloguard.control?.db.close();
    });
    return app;
  }

  /** 500 good requests in the last minute and a burst of 200 failures half an hour ago, on `replica`. */
  async function trafficWithBurst(replica: Awaited<ReturnType<typeof gateApp>>) {
    const burstAtMs = Date.now() - 30 * MINUTE;
    await replica.traffic(500, 0);
    await replica.traffic(0, 200, burstAtMs);
    const excludeBurst = {
      reason: 'failover drill',
      mode: 'exclude',
      window: {
        start: new Date(burstAtMs - 5 * MINUTE).toISOString(),
        end: new Date(burstAtMs + MINUTE).toISOString(),
      },
      appliesTo: { services: ['web'] },
    };
    return excludeBurst;
  }

  const statusAfterTick = async (replica: Awaited<ReturnType<typeof gateApp>>) =>
    (await replica.sloguard.evaluator.tick()).find((status) => status.name === SLO)!;

  it('the evaluating replica copies the shared corrections right before its tick', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_corrections');
    const a = await replica();
    const b = await replica();
    const correction = await trafficWithBurst(a);
    expect(await statusAfterTick(a)).toMatchObject({ good: 500, valid: 700 });

    const created = await b.app.inject({
      method: 'POST',
      url: '/api/v1/corrections',
      payload: correction,
      headers: { 'x-sloguard-actor': 'sre-bob' },
    });
    expect(created.statusCode).toBe(201);
    // A has not copied it: no periodic copy runs here.
    expect(a.sloguard.corrections.all()).toEqual([]);

    const after = await statusAfterTick(a);
    expect(after).toMatchObject({ good: 500, valid: 500, sli: 1 });
    expect(after.corrections?.applied).toEqual([created.json().id]);
  });

  it('a copy that does not answer in time is logged and the tick evaluates with the last copy', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_corrections');
    const logged: string[] = [];
    const a = await replica(logged);
    await trafficWithBurst(a);
    // Another session holds the corrections table: the copy's read waits (up to the 10 s statement timeout).
    const locker = new pg.Client({ connectionString: suite.postgres.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE control_corrections IN ACCESS EXCLUSIVE MODE');

    const startedAt = performance.now();
    expect(await statusAfterTick(a)).toMatchObject({ good: 500, valid: 700 });
    const tookMs = performance.now() - startedAt;
    // The copy's wait is bounded by 2 s, far below the statement timeout.
    expect(tookMs).toBeGreaterThanOrEqual(1_900);
    expect(tookMs).toBeLessThan(9_000);
    expect(logged.join('')).toContain('corrections not copied before the tick');
    await locker.query('COMMIT');
  });
});
