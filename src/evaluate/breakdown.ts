import type { SourceKind } from '../model/observation.js';
import type { Indicator, SloDefinition } from '../model/slo.js';
import { indicatorCounts, type RequestSums } from './inputs.js';
import { allowedErrorRatio, sliRatio } from './math.js';
import { type SeriesSource, selectedSeries } from './select.js';

/**
 * The budget breakdown: which series of an SLO (route, method, collector or span kind) spent its error budget
 * over a range, ranked. Pure: the bucket sums per series and step come from a reader the caller hands in.
 */

/** What names a series in a breakdown: the parts of its key that vary within one SLO. */
export interface BreakdownKey {
  kind: SourceKind;
  /** The collector (`?source=` at ingest) for load-balancer data, the span kind for traces. */
  source: string;
  operation: string;
  method: string;
}

export interface BreakdownRow extends BreakdownKey {
  valid: number;
  bad: number;
  /** Latency from histograms: how many of the good (so also the bad) events could be on the other side. */
  errorBound: number;
  sli: number | null;
  /** Of the bad events of the SLO (or its component) over the range. */
  badShare: number | null;
  /**
   * Of the budget the range allowed, (1 − objective) × the valid events of the SLO (or component) over it: the
   * shares of all series add up to the budget spent. Null for slice budgeting (the budget is spent in slices).
   */
  budgetShare: number | null;
  /** The series' SLI per step; null where it had no valid events. */
  sparkline: Array<number | null>;
}

/** One SLO's series, or a composite component's. */
export interface BreakdownGroup {
  component: { name: string; weight: number } | null;
  /** What the group's series were read for (the component's, in a composite). */
  indicator: Indicator;
  objective: number;
  valid: number;
  bad: number;
  errorBound: number;
  sli: number | null;
  /** Bad events the range's valid events allowed. */
  allowedBad: number;
  budgetSpent: number | null;
  /** Series with valid events in the range; `rows` holds the first `limit` of them. */
  seriesCount: number;
  rows: BreakdownRow[];
}

export const BREAKDOWN_SORTS = ['bad', 'sli'] as const;
export type BreakdownSort = (typeof BREAKDOWN_SORTS)[number];

export interface BreakdownOptions {
  limit: number;
  /** `bad`: most bad events (so most budget) first; `sli`: lowest SLI first (a small series failing badly). */
  sort: BreakdownSort;
}

/** Bucket sums per step of each series id, read for one indicator (its latency threshold or counting rule). */
export type StepSumsReader = (
  seriesIds: readonly number[],
  indicator: Indicator,
) => Map<number, RequestSums[]>;

interface Counted {
  key: BreakdownKey;
  valid: number;
  bad: number;
  errorBound: number;
  sparkline: Array<number | null>;
}

function countSeries(key: BreakdownKey, indicator: Indicator, steps: readonly RequestSums[]): Counted {
  let good = 0;
  let valid = 0;
  let errorBound = 0;
  const sparkline = steps.map((sums) => {
    const events = indicatorCounts(indicator, sums);
    good += events.good;
    valid += events.valid;
    errorBound += events.errorBound;
    return sliRatio(events.good, events.valid);
  });
  return { key, valid, bad: valid - good, errorBound, sparkline };
}

const keyText = (key: BreakdownKey) => `${key.operation} ${key.method} ${key.source}`;

function byRank(sort: BreakdownSort) {
  return (a: Counted, b: Counted): number => {
    const order = sort === 'sli' ? a.bad / a.valid - b.bad / b.valid : a.bad - b.bad || a.valid - b.valid;
    return -order || keyText(a.key).localeCompare(keyText(b.key));
  };
}

/** Ranks counted series and gives each its share of the bad events and of the budget. */
export function rankGroup(
  counted: readonly Counted[],
  objective: number,
  slices: boolean,
  options: BreakdownOptions,
): Omit<BreakdownGroup, 'component' | 'indicator'> {
  const active = counted.filter((series) => series.valid > 0);
  const valid = active.reduce((sum, series) => sum + series.valid, 0);
  const bad = active.reduce((sum, series) => sum + series.bad, 0);
  const errorBound = active.reduce((sum, series) => sum + series.errorBound, 0);
  const allowedBad = allowedErrorRatio(objective) * valid;
  const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);
  return {
    objective,
    valid,
    bad,
    errorBound,
    sli: sliRatio(valid - bad, valid),
    allowedBad,
    budgetSpent: slices ? null : share(bad, allowedBad),
    seriesCount: active.length,
    rows: [...active]
      .sort(byRank(options.sort))
      .slice(0, options.limit)
      .map((series) => ({
        ...series.key,
        valid: series.valid,
        bad: series.bad,
        errorBound: series.errorBound,
        sli: sliRatio(series.valid - series.bad, series.valid),
        badShare: share(series.bad, bad),
        budgetShare: slices ? null : share(series.bad, allowedBad),
        sparkline: series.sparkline,
      })),
  };
}

/**
 * The breakdown of an SLO over a range: one group of its own series, or one per component of a composite (each
 * judged by its own objective, as the composite's burn weighs them). PromQL indicators keep no series here.
 */
export function budgetBreakdown(
  definition: SloDefinition,
  series: SeriesSource,
  read: StepSumsReader,
  options: BreakdownOptions,
): BreakdownGroup[] {
  const slices = definition.budgeting !== 'occurrences';
  const parts = definition.composite
    ? definition.composite.components.map((c) => ({
        indicator: c.indicator,
        objective: c.objective,
        component: { name: c.name, weight: c.weight },
      }))
    : [{ indicator: definition.indicator, objective: definition.objective, component: null }];
  return parts.map(({ indicator, objective, component }) => {
    const rows = selectedSeries(definition, series, indicator);
    const sums = read(
      rows.map((row) => row.id),
      indicator,
    );
    const counted = rows.map((row) =>
      countSeries(
        { kind: row.kind, source: row.source, operation: row.operation, method: row.method },
        indicator,
        sums.get(row.id) ?? [],
      ),
    );
    return { component, indicator, ...rankGroup(counted, objective, slices, options) };
  });
}
