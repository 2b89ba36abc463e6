import { clip } from '../../definitions/timeWindows.js';
import { compositeCounts, summariseSlices } from '../../evaluate/budgeting.js';
import { windowRange } from '../../evaluate/calendar.js';
import { addEvents, correctionIntervals, NO_EVENTS, withoutEvents } from '../../evaluate/corrections.js';
import {
  estimatedWarning,
  indicatorCounts,
  NO_SERIES_WARNING,
  slicingFingerprint,
  unjudgedWarning,
  withoutExcludedSlices,
} from '../../evaluate/inputs.js';
import { burnWindows } from '../../evaluate/math.js';
import { type SeriesSource, selectedSeries } from '../../evaluate/select.js';
import type { EvaluationInput } from '../../evaluate/status.js';
import type { BurnWindow } from '../../model/budget.js';
import type { Correction } from '../../model/correction.js';
import type { SeriesOfService } from '../../model/series.js';
import { type Indicator, indicatorsOf, type SloDefinition } from '../../model/slo.js';
import type { EventCounts } from '../../model/status.js';
import type { Interval } from '../../model/timeWindow.js';
import { type BucketStore, type CountKey, ruleCountKey } from '../../store/buckets.js';
import type { CountsSource } from '../counts.js';

/** What a window read counts for an indicator besides total and errors: its threshold or its counting rule. */
export const countKeyOf = (indicator: Indicator): CountKey | undefined =>
  indicator.good.kind === 'latency'
    ? indicator.good.thresholdUs
    : indicator.rules && ruleCountKey(indicator.rules.id);

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
  corrections: readonly Correction[] = [],
): EvaluationInput {
  const parts = indicatorsOf(definition).map((indicator) => {
    const matching = selectedSeries(definition, series, indicator);
    return { indicator, matching, ids: matching.map((row) => row.id), threshold: countKeyOf(indicator) };
  });
  const range = windowRange(definition.windowSpec, nowMs);
  const windows = burnWindows(definition.windowMs);
  const longestBurnMs = Math.max(...windows.map(([, ms]) => ms));
  const corrected = correctionIntervals(
    definition,
    corrections,
    Math.min(range.startMs, nowMs - longestBurnMs),
    nowMs,
    buckets.oldestMinuteKept(nowMs) * 60_000,
  );
  const partCounts = (fromMs: number, toMs: number) =>
    parts.map((part) => {
      const sums = buckets.windowCounts(part.ids, fromMs, toMs, part.threshold);
      return {
        counts: indicatorCounts(part.indicator, sums),
        effectiveFromMs: sums.effectiveFromMs,
        estimated: sums.estimated,
      };
    });
  const combine = (each: EventCounts[]): EventCounts =>
    definition.composite
      ? compositeCounts(definition.composite.components, each, definition.objective)
      : each[0]!;
  /** Each part's events over the parts of `intervals` in [fromMs, nowMs). */
  const within = (intervals: readonly Interval[], fromMs: number): EventCounts[] =>
    clip(intervals, fromMs, nowMs).reduce(
      (sums, interval) =>
        partCounts(interval.startMs, interval.endMs).map(({ counts }, i) => addEvents(sums[i]!, counts)),
      parts.map(() => NO_EVENTS),
    );
  let effectiveFromMs = nowMs;
  let estimated = 0;
  // Counts from `fromMs` to now, less the events excluded by corrections.
  const [only] = parts;
  const plain = parts.length === 1 && !definition.composite && corrected.exclude.length === 0;
  const count = (fromMs: number): EventCounts => {
    // One indicator, nothing excluded (nearly every SLO): its counts as read, with no lists per window.
    if (plain && only) {
      const sums = buckets.windowCounts(only.ids, fromMs, nowMs, only.threshold);
      effectiveFromMs = sums.effectiveFromMs;
      estimated = sums.estimated;
      return indicatorCounts(only.indicator, sums);
    }
    const each = partCounts(fromMs, nowMs);
    effectiveFromMs = each.at(-1)?.effectiveFromMs ?? nowMs;
    estimated = each.reduce((sum, part) => sum + part.estimated, 0);
    // Nearly every SLO has no exclusion in force: nothing to take out, and no copies of its counts per window.
    if (corrected.exclude.length === 0) return combine(each.map(({ counts }) => counts));
    const excluded = within(corrected.exclude, effectiveFromMs);
    return combine(each.map(({ counts }, i) => withoutEvents(counts, excluded[i]!)));
  };
  const window = count(range.startMs);
  const windowEstimated = estimated;
  const windowStartMs = definition.windowSpec.kind === 'calendar' ? range.startMs : effectiveFromMs;
  const burnCounts: Record<BurnWindow, EventCounts> = {};
  for (const window of windows) burnCounts[window[0]] = count(nowMs - window[1]);
  const warnings = parts.some((part) => part.matching.length === 0) ? [NO_SERIES_WARNING] : [];
  if (windowEstimated > 0) warnings.push(estimatedWarning(windowEstimated));
  const lastSeen = parts.reduce(
    (latest, part) => part.matching.reduce((partLatest, row) => Math.max(partLatest, row.lastSeenMs), latest),
    -1,
  );
  const input: EvaluationInput = {
    window,
    burnWindows: burnCounts,
    // A sender's clock may run ahead by the allowed skew (and older versions stored any time): never later than now.
    lastObservationMs: lastSeen >= 0 ? Math.min(lastSeen, nowMs) : null,
    windowStartMs,
    ...(definition.windowSpec.kind === 'calendar' && { windowEndMs: range.endMs }),
    warnings,
  };
  if (corrected.applied.length > 0) {
    input.corrections = {
      applied: corrected.applied,
      excluded: combine(within(corrected.exclude, windowStartMs)),
      planned: combine(within(corrected.planned, windowStartMs)),
    };
  }
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
      withoutExcludedSlices(closed, first, slices.sliceMs, corrected.exclude),
      sliceMinutes,
      slices.target,
      (range.endMs - range.startMs) / 60_000,
    );
    if (closed.unjudged > 0) warnings.push(unjudgedWarning(closed));
  }
  return input;
}

/**
 * Counts from sloguard's own buckets: every SLO no other source reads. A tick's reads share one read pass and
 * one series reader.
 */
export class StoreCounts implements CountsSource {
  private series: SeriesOfService | undefined;

  constructor(private readonly buckets: BucketStore) {}

  reads(): boolean {
    return true;
  }

  /**
   * Nothing to fetch ahead (the buckets are read during the evaluation itself); once a tick, the read cache
   * lets go of what the last tick did not read.
   */
  async refresh(): Promise<void> {
    this.buckets.forgetUnread();
  }

  read(definition: SloDefinition, nowMs: number, corrections: readonly Correction[]): EvaluationInput {
    return storeInput(
      this.buckets,
      definition,
      this.series ?? this.buckets.seriesReader(),
      nowMs,
      corrections,
    );
  }

  readPass<T>(reads: () => T): T {
    return this.buckets.readPass(() => {
      this.series = this.buckets.seriesReader();
      try {
        return reads();
      } finally {
        this.series = undefined;
      }
    });
  }
}
