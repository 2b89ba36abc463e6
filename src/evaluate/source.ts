import type { SloDefinition } from '../model/slo.js';
import { burnWindows } from './math.js';
import type { EvaluationInput } from './status.js';

/**
 * Counts an SLO reads from somewhere other than sloguard's own store (a Prometheus-compatible engine).
 * `refresh` does the I/O before a tick and never throws; `read` hands the evaluation what the last refresh
 * found, synchronously, so the evaluation itself (and the gate reading its statuses) never waits on a network.
 */
export interface ExternalCounts {
  /** Whether this source supplies the SLO's counts. */
  reads(definition: SloDefinition): boolean;
  refresh(definitions: readonly SloDefinition[], nowMs: number): Promise<void>;
  /** The counts from the last refresh, or why there are none (the SLO is then stale). */
  read(definition: SloDefinition): EvaluationInput | { failure: string };
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
