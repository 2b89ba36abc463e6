/**
 * Work done in steps: a generator that yields where the event loop may run (after one freeze scope, one SLO's
 * alert). Run whole or in slices, it computes the same thing; only when the rest of the service may run
 * between its steps differs.
 */
export type SteppedWork = Generator<void, void, void>;

const afterImmediates = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Yields between two slices for a whole turn of the event loop. A request read during a turn queues its answer
 * with setImmediate (the gate's decision commit), behind the next slice when the work yields once: each gate
 * request during a tick then waited for the slice under way and the next. Yielding twice runs what the turn
 * queued before the next slice: a request that came during a slice is read in the turn between the two yields,
 * and waits for that slice only (issue #23, gate p99 during a tick; test/unit/schedule.test.ts).
 */
export async function nextTurn(): Promise<void> {
  await afterImmediates();
  await afterImmediates();
}

/** Runs every step of `work` now, holding the event loop (evaluateAll, tests, benches). */
export function runWhole(work: SteppedWork): void {
  for (let step = work.next(); step.done !== true; step = work.next());
}

/**
 * Runs steps of `work`, at least one, until it is done or `endsAt` (performance.now()) has passed; returns
 * whether it is done. At least one step a call, so work whose steps each outlast a slice still ends.
 */
export function runSlice(work: SteppedWork, endsAt: number): boolean {
  do {
    if (work.next().done === true) return true;
  } while (performance.now() < endsAt);
  return false;
}

/**
 * Runs `work` in slices of `sliceMs`, the first ending at `endsAt`, a whole turn of the loop between two; returns
 * when the last one ends, for the next work to go on in it. Work that fits the slice under way ends in this turn.
 */
export async function runInSlices(work: SteppedWork, sliceMs: number, endsAt: number): Promise<number> {
  let sliceEndsAt = endsAt;
  // Bounded by the work's steps: each pass runs one at least.
  let done = false;
  while (!done) {
    if (performance.now() >= sliceEndsAt) {
      await nextTurn();
      sliceEndsAt = performance.now() + sliceMs;
    }
    done = runSlice(work, sliceEndsAt);
  }
  return sliceEndsAt;
}
