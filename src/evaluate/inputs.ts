import { type Indicator, indicatorsOf, type SloDefinition } from '../definitions/slo.js';
import type { BucketStore } from '../store/buckets.js';
import type { ClosedSlices } from '../store/slices.js';
import type { BucketSums } from '../store/slotCache.js';
import { compositeCounts, summariseSlices } from './budgeting.js';
import { windowRange } from './calendar.js';
import { type BurnWindow, burnWindows } from './math.js';
import { type SeriesSource, selectedSeries } from './select.js';
import type { EvaluationInput, EventCounts } from './status.js';

/** Good and valid events of an indicator from store sums: availability counts requests, latency timed ones. */
export function indicatorCounts(indicator: Indicator, counts: BucketSums): EventCounts {
  if (indicator.good.kind === 'latency')
    return { good: counts.latencyGood, valid: counts.timed, errorBound: counts.latencyErrorBound };
  return { good: counts.total - counts.errors, valid: counts.total, errorBound: 0 };
}

const thresholdOf = (indicator: Indicator) =>
  indicator.good.kind === 'latency' ? indicator.good.thresholdUs : undefined;

export const NO_SERIES_WARNING = 'selects no series seen so far';

/**
 * How an SLO's slices are cut: what its indicator selects and counts good, and the slice length. Slices kept
 * under another fingerprint are not reused (the slice target is not part of it: slices keep events, not verdicts).
 */
export function slicingFingerprint(definition: SloDefinition, sliceMinutes: number): string {
  const { source, select, good } = definition.indicator;
  return JSON.stringify({
    source,
    service: select.service ?? definition.service,
    collector: select.collector,
    route: select.route,
    method: select.method,
    spanKinds: select.spanKinds && [...select.spanKinds].sort(),
    good: good.kind === 'latency' ? `<= ${good.thresholdUs}us` : 'status < 500',
    sliceMinutes,
  });
}

/** Slices left out because their minute rows were gone before they were kept (history of a new SLO). */
export function unjudgedWarning(slices: ClosedSlices): string {
  return `time slices are judged from ${new Date(slices.judgedFromMs).toISOString()}: the minute rows of ${slices.unjudged} earlier slices were gone before the slices were kept`;
}

/**
 * What the pure evaluation needs about one SLO, read from the store: counts over the SLO window (rolling, or
 * the calendar period so far), over each burn-rate window, the slices for slice budgeting, and freshness.
 * Composites read each component and combine them by weight.
 */
export function storeInput(
  buckets: BucketStore,
  definition: SloDefinition,
  series: SeriesSource,
  nowMs: number,
): EvaluationInput {
  const parts = indicatorsOf(definition).map((indicator) => {
    const matching = selectedSeries(definition, series, indicator);
    return { indicator, matching, ids: matching.map((row) => row.id), threshold: thresholdOf(indicator) };
  });
  let effectiveFromMs = nowMs;
  const count = (fromMs: number): EventCounts => {
    const each = parts.map((part) => {
      const sums = buckets.windowCounts(part.ids, fromMs, nowMs, part.threshold);
      effectiveFromMs = sums.effectiveFromMs;
      return indicatorCounts(part.indicator, sums);
    });
    return definition.composite
      ? compositeCounts(definition.composite.components, each, definition.objective)
      : each[0]!;
  };
  const range = windowRange(definition.windowSpec, nowMs);
  const window = count(range.startMs);
  const windowStartMs = definition.windowSpec.kind === 'calendar' ? range.startMs : effectiveFromMs;
  const burnCounts: Record<BurnWindow, EventCounts> = {};
  for (const [name, ms] of burnWindows(definition.windowMs)) burnCounts[name] = count(nowMs - ms);
  const warnings = parts.some((part) => part.matching.length === 0) ? [NO_SERIES_WARNING] : [];
  const lastSeen = parts
    .flatMap((part) => part.matching)
    .reduce((latest, row) => Math.max(latest, row.lastSeenMs), -1);
  const input: EvaluationInput = {
    window,
    burnWindows: burnCounts,
    // A sender's clock may run ahead by the allowed skew (and older versions stored any time): never later than now.
    lastObservationMs: lastSeen >= 0 ? Math.min(lastSeen, nowMs) : null,
    windowStartMs,
    ...(definition.windowSpec.kind === 'calendar' && { windowEndMs: range.endMs }),
    warnings,
  };
  const slices = definition.timeslices;
  if (slices && definition.budgeting !== 'occurrences') {
    // Rolling windows cut slices on multiples of the slice length, calendar windows from the period start.
    const first =
      definition.windowSpec.kind === 'calendar'
        ? range.startMs
        : Math.ceil(range.startMs / slices.sliceMs) * slices.sliceMs;
    const part = parts[0]!;
    const sliceMinutes = slices.sliceMs / 60_000;
    const closed = buckets.slices.closedSlices({
      slo: definition.name,
      fingerprint: slicingFingerprint(definition, sliceMinutes),
      seriesIds: part.ids,
      thresholdUs: part.threshold,
      sliceMinutes,
      fromMinute: Math.ceil(first / 60_000),
      nowMs,
      events: (sums) => indicatorCounts(part.indicator, sums),
    });
    input.slices = summariseSlices(
      closed,
      sliceMinutes,
      slices.target,
      (range.endMs - range.startMs) / 60_000,
    );
    if (closed.unjudged > 0) warnings.push(unjudgedWarning(closed));
  }
  return input;
}
