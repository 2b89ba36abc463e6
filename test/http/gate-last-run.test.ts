import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LAST_RUN_TRUSTED_MS } from '../../src/schedule/scheduler.js';
import { databaseIn, GATE_DEFINITIONS, gateApp } from '../helpers/gateFixtures.js';
import { tempDir } from '../helpers/tmp.js';

/** The gate between a start and the first evaluation: the statuses the last run stored, within a bound. */
const dirs: Array<ReturnType<typeof tempDir>> = [];
let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});
afterAll(() => {
  for (const dir of dirs) dir.cleanup();
});

const ask = async () => (await ctx!.app.inject('/api/v1/gate?service=web&environment=production')).json();

/** A database whose last run evaluated 1,000 good requests and 1 bad at `evaluatedAtMs`. */
async function lastRunAt(evaluatedAtMs: number): Promise<string> {
  const dir = tempDir('sloguard-last-run-');
  dirs.push(dir);
  const databasePath = databaseIn(dir.path);
  ctx = await gateApp({ databasePath });
  await ctx.traffic(1000, 1, evaluatedAtMs - 60_000, evaluatedAtMs);
  await ctx.close();
  ctx = await gateApp({ databasePath }, GATE_DEFINITIONS, { evaluate: false });
  return new Date(evaluatedAtMs).toISOString();
}

describe('the gate before the first evaluation', () => {
  it('judges the last run statuses on their numbers, marked, and unmarks once evaluated', async () => {
    const at = await lastRunAt(Date.now() - 120_000);
    const stored = await ask();
    // 1 bad of 1,001 against a 99.9% objective: 0.1% of the budget left, a warning, not on_no_data's deny.
    expect(stored).toMatchObject({ decision: 'warn', stale: true, from_last_run: true, evaluated_at: at });
    expect(stored.reason).toContain(`statuses from the last run at ${at}`);
    ctx!.sloguard.evaluator.evaluateAll();
    const fresh = await ask();
    expect(fresh).toMatchObject({ decision: 'warn', stale: false, from_last_run: false });
    expect(fresh.reason).not.toContain('last run');
  });

  it('judges last run statuses older than the bound by on_no_data', async () => {
    await lastRunAt(Date.now() - LAST_RUN_TRUSTED_MS - 60_000);
    const stored = await ask();
    expect(stored).toMatchObject({ decision: 'deny', stale: true, from_last_run: true });
    expect(stored.reason).toContain('stale statuses for web-availability');
    expect(stored.reason).toContain('(on_no_data: deny)');
  });
});
