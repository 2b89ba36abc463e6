import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RETRY_PAUSE_MS, RetriedWrite, retryPause } from '../../src/control/retriedWrite.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a shared write retried until the control database takes it', () => {
  it('doubles its pause after each failure in a row, up to the last', () => {
    expect([1, 2, 3, 4].map(retryPause)).toEqual([250, 500, 1_000, 2_000]);
    expect(retryPause(30)).toBe(RETRY_PAUSE_MS.max);
  });

  it('retries a failed run after the pause, and stops retrying once one succeeds', async () => {
    const runs: number[] = [];
    const failures: number[] = [];
    let failing = 2;
    const write = new RetriedWrite(
      async () => {
        runs.push(Date.now());
        if (failing-- > 0) throw new Error('connection refused');
        return false;
      },
      (_, inARow) => failures.push(inARow),
    );
    const start = Date.now();
    write.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(1);
    // A poke while a retry waits does not hurry it.
    write.poke();
    await vi.advanceTimersByTimeAsync(249);
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(runs.map((at) => at - start)).toEqual([0, 250, 750]);
    expect(failures).toEqual([1, 2]);
    expect(write.failuresInARow).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toHaveLength(3);
  });

  it('runs again at once when poked during a run, or when a run leaves something waiting', async () => {
    let runs = 0;
    let finish: (stillWaiting: boolean) => void = () => undefined;
    const write = new RetriedWrite(
      () =>
        new Promise<boolean>((resolve) => {
          runs++;
          finish = resolve;
        }),
      () => undefined,
    );
    write.poke();
    await vi.advanceTimersByTimeAsync(0);
    // One run at a time: a poke during it waits for its end, then runs.
    write.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    finish(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(2);
    // A run that leaves something waiting is followed by another.
    finish(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(3);
    // Nothing waits and nobody poked: no more runs.
    finish(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toBe(3);
    await write.stop();
    write.poke();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(3);
  });
});
