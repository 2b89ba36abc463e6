import { rulesText } from '../definitions/eventRules.js';
import type { Indicator, SloDefinition } from '../model/slo.js';
import type { SliceSeries } from './budgeting.js';

/** Request sums over some window, however they were kept: what an indicator's events are made of. */
export interface RequestSums {
  total: number;
  errors: number;
  /** Requests with a measured duration (the valid events of a latency SLI). */
  timed: number;
  /** Requests at or under the latency threshold. */
  latencyGood: number;
  /** How many of latencyGood could be on the other side of the threshold (0 when exact). */
  latencyErrorBound: number;
}

import type { EventCounts } from '../model/status.js';
import type { Interval } from '../model/timeWindow.js';

/** Good and valid events of an indicator from store sums: availability counts requests, latency timed ones. */
export function indicatorCounts(indicator: Indicator, counts: RequestSums): EventCounts {
  if (indicator.good.kind === 'latency')
    return { good: counts.latencyGood, valid: counts.timed, errorBound: counts.latencyErrorBound };
  return { good: counts.total - counts.errors, valid: counts.total, errorBound: 0 };
}

/** Good and valid events of an SLO's indicator from store sums. */
export function eventCounts(definition: SloDefinition, counts: RequestSums): EventCounts {
  return indicatorCounts(definition.indicator, counts);
}

export const NO_SERIES_WARNING = 'selects no series seen so far';

/**
 * How an SLO's slices are cut: what its indicator selects and counts good, and the slice length. Slices kept
 * under another fingerprint are not reused (the slice target is not part of it: slices keep events, not verdicts).
 */
export function slicingFingerprint(definition: SloDefinition, sliceMinutes: number): string {
  const { source, select, good, rules } = definition.indicator;
  return JSON.stringify({
    source,
    service: select.service ?? definition.service,
    collector: select.collector,
    route: select.route,
    method: select.method,
    spanKinds: select.spanKinds && [...select.spanKinds].sort(),
    good: good.kind === 'latency' ? `<= ${good.thresholdUs}us` : rules ? rulesText(rules) : 'status < 500',
    sliceMinutes,
  });
}

/** Events a good/bad/valid rule could not judge exactly: they were counted before it was declared, or scraped. */
export function estimatedWarning(events: number): string {
  return `${events} events of the window were counted before the SLO's good/bad/valid rules were declared (or scraped): they are judged as status < 500 with nothing excluded, an estimate`;
}

/** Slices left out because their minute rows were gone before they were kept (history of a new SLO). */
export function unjudgedWarning(slices: { judgedFromMs: number; unjudged: number }): string {
  return `time slices are judged from ${new Date(slices.judgedFromMs).toISOString()}: the minute rows of ${slices.unjudged} earlier slices were gone before the slices were kept`;
}

/** Slices that overlap an excluded interval are left out whole, as slices without events are. */
export function withoutExcludedSlices(
  slices: SliceSeries,
  firstMs: number,
  sliceMs: number,
  exclude: readonly Interval[],
): SliceSeries {
  if (exclude.length === 0) return slices;
  const valid = Float64Array.from(slices.valid);
  for (const interval of exclude) {
    const from = Math.max(0, Math.floor((interval.startMs - firstMs) / sliceMs));
    const to = Math.min(valid.length, Math.ceil((interval.endMs - firstMs) / sliceMs));
    valid.fill(0, from, Math.max(from, to));
  }
  return { good: slices.good, valid };
}
