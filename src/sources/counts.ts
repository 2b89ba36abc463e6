import { burnWindows } from '../evaluate/math.js';
import type { EvaluationInput } from '../evaluate/status.js';
import type { Correction } from '../model/correction.js';
import type { SloDefinition } from '../model/slo.js';

/** An SLO's counts as a source read them, or why there are none (the SLO is then stale). */
export type CountsRead = EvaluationInput | { failure: string };

/**
 * Where an SLO's good and valid events come from: sloguard's own store (sources/store/) or a
 * Prometheus-compatible engine (sources/promql/). Each tick the scheduler calls `refresh` (the I/O, bounded by
 * timeouts, never throws), then `read` for every SLO the source `reads`, all inside one `readPass`. `read`
 * is synchronous, so the evaluation (and the gate reading its statuses) never waits on a network.
 */
export interface CountsSource {
  /** Whether this source supplies the SLO's counts. */
  reads(definition: SloDefinition): boolean;
  /** `corrections`: those in force at this tick (a source that reads ahead subtracts what they exclude). */
  refresh(
    definitions: readonly SloDefinition[],
    nowMs: number,
    corrections?: readonly Correction[],
  ): Promise<void>;
  /**
   * The counts over the SLO window and each burn-rate window at `nowMs` (slices too, for slice budgeting),
   * less the events the corrections in force exclude.
   */
  read(definition: SloDefinition, nowMs: number, corrections: readonly Correction[]): CountsRead;
  /** Runs one tick's reads together (the store checks its caches once per pass). */
  readPass<T>(reads: () => T): T;
}

/** What an SLO counts before its source has answered: no events in any window. */
export function noEvents(nowMs: number, windowMs: number): EvaluationInput {
  const none = { good: 0, valid: 0, errorBound: 0 };
  return {
    window: none,
    burnWindows: Object.fromEntries(burnWindows(windowMs).map(([name]) => [name, none])),
    lastObservationMs: null,
    windowStartMs: nowMs - windowMs,
  };
}
