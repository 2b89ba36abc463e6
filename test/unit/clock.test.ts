import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SloStatus } from '../../src/model/status.js';
import { delayToNextTick } from '../../src/schedule/scheduler.js';
import { testApp } from '../helpers/app.js';

// Issue 15, finding 9: a wall-clock step back stopped evaluation for as long as the step (the cron schedule
// waited for the wall clock to come back), left `evaluated_at` in the future and `stale` false.
const DAY = 86_400_000;
const INTERVAL = 60_000;

let ctx: Awaited<ReturnType<typeof testApp>> | undefined;
afterEach(async () => {
  vi.useRealTimers();
  ctx?.sloguard.evaluator.stop();
  await ctx?.close();
  ctx = undefined;
});

describe('delayToNextTick', () => {
  it('is between half and one and a half intervals whatever the wall clock reads', () => {
    for (const nowMs of [0, 1, 29_999, 30_000, 59_999, -DAY - 1, Date.now(), 8.64e15 - 1]) {
      const delay = delayToNextTick(nowMs, INTERVAL);
      expect(delay).toBeGreaterThanOrEqual(INTERVAL / 2);
      expect(delay).toBeLessThanOrEqual(INTERVAL * 1.5);
      expect(Math.abs((nowMs + delay) % INTERVAL), String(nowMs)).toBe(0);
    }
  });
});

describe('evaluation under wall-clock steps (fake clock)', () => {
  it('keeps ticking through a step back and forward of a day, reports staleness truthfully, counts once', async () => {
    ctx = await testApp({ evaluationIntervalMs: INTERVAL });
    const { evaluator, pipeline, buckets } = ctx.sloguard;
    // Timers, Date and performance.now() move only when the test moves them.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'], now: Date.now() });
    const requests = (count: number) => {
      const batch = pipeline.newBatch();
      for (let i = 0; i < count; i++) {
        batch.add({
          timeMs: Date.now() - 1_000,
          kind: 'loadbalancer',
          source: 'lb',
          service: 'user-profile',
          operation: '/profile/:id',
          method: 'GET',
          error: i === 0,
        });
      }
      buckets.commit(batch);
    };
    const ticks: number[] = [];
    evaluator.onEvaluated((statuses) => ticks.push(statuses[0]!.evaluatedAtMs));
    const profile = () => evaluator.status('profile-availability')!;
    const errors: unknown[] = [];
    evaluator.start((error) => errors.push(error));

    requests(10);
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(profile()).toMatchObject({ valid: 10, good: 9 });
    expect(evaluator.isStale(profile())).toBe(false);

    // Back a day: the latest status now lies in the future and is superseded (stale) until the next tick.
    vi.setSystemTime(Date.now() - DAY);
    expect(evaluator.isStale(profile())).toBe(true);
    const before = ticks.length;
    await vi.advanceTimersByTimeAsync(1.5 * INTERVAL);
    expect(ticks.length).toBeGreaterThan(before);
    expect(profile().evaluatedAtMs).toBeLessThanOrEqual(Date.now());
    expect(evaluator.isStale(profile())).toBe(false);
    // The first 10 requests lie a day ahead of this clock: not in the window yet. New ones count.
    requests(5);
    await vi.advanceTimersByTimeAsync(1.5 * INTERVAL);
    expect(profile()).toMatchObject({ valid: 5, good: 4 });

    // Forward two days: the next tick comes within an interval and sees every request once.
    vi.setSystemTime(Date.now() + 2 * DAY);
    expect(evaluator.isStale(profile())).toBe(false);
    const beforeForward = ticks.length;
    await vi.advanceTimersByTimeAsync(1.5 * INTERVAL);
    expect(ticks.length).toBeGreaterThan(beforeForward);
    expect(profile()).toMatchObject({ valid: 15, good: 13 });
    expect(profile().evaluatedAtMs).toBeLessThanOrEqual(Date.now());

    // A stopped evaluator goes stale after two intervals, measured on the monotonic clock.
    evaluator.stop();
    await vi.advanceTimersByTimeAsync(2 * INTERVAL + 1_000);
    expect(evaluator.isStale(profile())).toBe(true);
    expect(errors).toEqual([]);
  });

  it('runs one chain of ticks when stopped and started again while a tick is under way (a reload)', async () => {
    ctx = await testApp({ evaluationIntervalMs: INTERVAL });
    const { evaluator } = ctx.sloguard;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'], now: Date.now() });
    let ticks = 0;
    evaluator.onEvaluated(() => {
      ticks += 1;
    });
    evaluator.start(() => {});
    // Fires the first tick's timer; the tick waits on its sources' refresh when the restart comes.
    vi.advanceTimersByTime(1.5 * INTERVAL);
    evaluator.stop();
    evaluator.start(() => {});
    evaluator.start(() => {});
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);
    // The first tick, then one a minute from the restart: 10 or 11, never two chains (about 20).
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(ticks).toBeLessThanOrEqual(12);
  });

  it('judges a status loaded at start (no monotonic time) by the wall clock', async () => {
    ctx = await testApp({ evaluationIntervalMs: INTERVAL });
    const { evaluator } = ctx.sloguard;
    const status = { ...evaluator.status('profile-availability')! } as SloStatus;
    const nowMs = Date.now();
    expect(evaluator.isStale({ ...status, evaluatedAtMs: nowMs - 3 * INTERVAL }, nowMs)).toBe(true);
    expect(evaluator.isStale({ ...status, evaluatedAtMs: nowMs - INTERVAL }, nowMs)).toBe(false);
    expect(evaluator.isStale({ ...status, evaluatedAtMs: nowMs + DAY }, nowMs)).toBe(true);
  });
});
