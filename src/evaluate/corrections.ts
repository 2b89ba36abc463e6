import { covers } from '../definitions/corrections.js';
import { clip, mergeIntervals, occurrences, subtractIntervals } from '../definitions/timeWindows.js';
import type { Correction } from '../model/correction.js';
import type { SloDefinition } from '../model/slo.js';
import type { EventCounts } from '../model/status.js';
import type { Interval } from '../model/timeWindow.js';

/** Where an SLO's corrections are in force over a range: exclusions win where both apply. */
export interface CorrectionIntervals {
  exclude: readonly Interval[];
  planned: readonly Interval[];
  /** Ids of the corrections in force somewhere in the range. */
  applied: readonly string[];
}

/** No correction in force: shared by every SLO's read of a tick that has none (nearly every tick). */
const NONE_IN_FORCE: CorrectionIntervals = Object.freeze({
  exclude: Object.freeze([]),
  planned: Object.freeze([]),
  applied: Object.freeze([]),
});

const HOUR_MS = 3_600_000;

/**
 * The intervals of the corrections covering an SLO within [fromMs, toMs). Parts older than `minuteKeptFromMs`
 * (where only hour rollups are left) are widened to whole hours: that is the precision the store has there.
 */
export function correctionIntervals(
  definition: SloDefinition,
  corrections: readonly Correction[],
  fromMs: number,
  toMs: number,
  minuteKeptFromMs: number,
): CorrectionIntervals {
  // Nearly every SLO has none in force: no lists made, no merged, clipped and subtracted copies of empty ones.
  if (corrections.length === 0) return NONE_IN_FORCE;
  const align = (i: Interval): Interval => ({
    startMs: i.startMs < minuteKeptFromMs ? Math.floor(i.startMs / HOUR_MS) * HOUR_MS : i.startMs,
    endMs: i.endMs < minuteKeptFromMs ? Math.ceil(i.endMs / HOUR_MS) * HOUR_MS : i.endMs,
  });
  const exclude: Interval[] = [];
  const planned: Interval[] = [];
  const applied: string[] = [];
  for (const correction of corrections) {
    if (!covers(correction, definition)) continue;
    const found = occurrences(correction.window, fromMs, toMs);
    if (found.length === 0) continue;
    applied.push(correction.id);
    (correction.mode === 'exclude' ? exclude : planned).push(...found.map(align));
  }
  if (applied.length === 0) return NONE_IN_FORCE;
  const excluded = clip(mergeIntervals(exclude), fromMs, toMs);
  return {
    exclude: excluded,
    planned: subtractIntervals(clip(mergeIntervals(planned), fromMs, toMs), excluded),
    applied,
  };
}

export const NO_EVENTS: EventCounts = { good: 0, valid: 0, errorBound: 0 };

export function addEvents(a: EventCounts, b: EventCounts): EventCounts {
  return { good: a.good + b.good, valid: a.valid + b.valid, errorBound: a.errorBound + b.errorBound };
}

/** `a` without the events of `b` (a part of it); never below zero. */
export function withoutEvents(a: EventCounts, b: EventCounts): EventCounts {
  return {
    good: Math.max(0, a.good - b.good),
    valid: Math.max(0, a.valid - b.valid),
    errorBound: Math.max(0, a.errorBound - b.errorBound),
  };
}
