import { formatDuration } from '../../config/duration.js';
import { withWindow } from '../../definitions/promqlSource.js';
import type { StepSumsReader } from '../../evaluate/breakdown.js';
import type { RequestSums } from '../../evaluate/inputs.js';
import type { PrometheusDataSource } from '../../model/promql.js';
import type { SeriesRow } from '../../model/series.js';
import { type Indicator, indicatorsOf, type SloDefinition } from '../../model/slo.js';
import { PromQlError, rangeMatrix } from '../promql/client.js';
import { seriesQueries, seriesRowOf } from './queries.js';

const MINUTE_MS = 60_000;

/** A breakdown's range cut into steps of `stepMs` (whole minutes) from `fromMs`; the last step may be shorter. */
export interface BreakdownRange {
  fromMs: number;
  toMs: number;
  stepMs: number;
}

/**
 * The step edges the embedded store counts (store/seriesBreakdown.ts): it reads whole minutes from the minute of
 * `fromMs` to the minute after `toMs` and counts each minute in the step its start falls in, so step i > 0
 * starts at the first minute at or after `fromMs + i × stepMs`. n steps have n + 1 edges.
 */
export function breakdownEdges(range: BreakdownRange): number[] {
  const steps = Math.max(1, Math.ceil((range.toMs - range.fromMs) / range.stepMs));
  const ceilMinute = (ms: number) => Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
  const edges = [Math.floor(range.fromMs / MINUTE_MS) * MINUTE_MS];
  for (let i = 1; i < steps; i++) edges.push(ceilMinute(range.fromMs) + i * range.stepMs);
  edges.push(Math.max(edges.at(-1)!, ceilMinute(range.toMs)));
  return edges;
}

/** Runs of consecutive steps of one length: each is one range query with that length as step and window. */
function runsOf(edges: readonly number[]): Array<{ first: number; count: number; lengthMs: number }> {
  const runs: Array<{ first: number; count: number; lengthMs: number }> = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const lengthMs = edges[i + 1]! - edges[i]!;
    const last = runs.at(-1);
    if (last && last.lengthMs === lengthMs) last.count++;
    else runs.push({ first: i, count: 1, lengthMs });
  }
  return runs;
}

/** The labels a series of the store is keyed by, as the `sum by` of the series queries keeps them. */
const seriesKey = (labels: Record<string, string>) =>
  [labels.kind, labels.service, labels.operation, labels.method, labels.source].join('\u0000');

interface Answered {
  labels: Record<string, string>;
  steps: Float64Array;
}

/** One `sum by (series labels)` query's events per series and step, summed over collectors. */
async function perStep(
  dataSource: PrometheusDataSource,
  query: string,
  edges: readonly number[],
): Promise<Map<string, Answered>> {
  const answered = new Map<string, Answered>();
  const steps = edges.length - 1;
  for (const run of runsOf(edges)) {
    // An empty last step (the range ends on a step edge) holds no events.
    if (run.lengthMs === 0) continue;
    const text = withWindow(query, formatDuration(run.lengthMs));
    const startMs = edges[run.first + 1]!;
    const matrix = await rangeMatrix(dataSource, text, {
      startMs,
      endMs: startMs + (run.count - 1) * run.lengthMs,
      stepMs: run.lengthMs,
    });
    for (const { labels, values } of matrix) {
      const key = seriesKey(labels);
      let series = answered.get(key);
      if (!series) {
        series = { labels, steps: new Float64Array(steps) };
        answered.set(key, series);
      }
      for (const [atMs, value] of values) {
        if (!Number.isFinite(value)) throw new PromQlError(`"${text}" answered ${value}`);
        series.steps[run.first + Math.round((atMs - startMs) / run.lengthMs)]! += value;
      }
    }
  }
  return answered;
}

/** Step sums of one series as the store's breakdown reads them: valid and bad, or timed and good in time. */
function stepSums(total: Float64Array, counted: Float64Array | undefined, good: boolean): RequestSums[] {
  return Array.from(total, (valid, i) => {
    const events = counted?.[i] ?? 0;
    return good
      ? { total: valid, errors: 0, timed: valid, latencyGood: events, latencyErrorBound: 0 }
      : { total: valid, errors: events, timed: 0, latencyGood: 0, latencyErrorBound: 0 };
  });
}

/** What a breakdown ranks, read from the engine: the series, and their sums per step for each indicator. */
export interface EngineBreakdown {
  series: SeriesRow[];
  read: StepSumsReader;
}

/** Reads an SLO's breakdown from the engine; `undefined` for an SLO it does not read. */
export type EngineBreakdownReader = (
  definition: SloDefinition,
  range: BreakdownRange,
) => Promise<EngineBreakdown | { failure: string }> | undefined;

/**
 * An SLO's series (a composite's components') and their events per step from the engine, by the collectors'
 * counters summed by series (`sum by (kind, service, operation, method, source) (increase(...[step]))`) at each
 * step's end. Counts are exact where the store's are (samples on the grid, edges on whole minutes). More than
 * `maxSeries` series (the store's cap on the series of a service) is refused, as the store never keeps more.
 */
export async function engineBreakdown(
  definition: SloDefinition,
  dataSource: PrometheusDataSource,
  range: BreakdownRange,
  maxSeries: number,
): Promise<EngineBreakdown | { failure: string }> {
  const edges = breakdownEdges(range);
  const rows = new Map<string, SeriesRow>();
  const sums = new Map<Indicator, Map<number, RequestSums[]>>();
  for (const indicator of indicatorsOf(definition)) {
    const queries = seriesQueries(definition, indicator);
    const [total, counted] = await Promise.all([
      perStep(dataSource, queries.total, edges),
      perStep(dataSource, queries.counted, edges),
    ]);
    const bySeries = new Map<number, RequestSums[]>();
    for (const [key, { labels, steps }] of total) {
      let row = rows.get(key);
      if (!row) {
        if (rows.size >= maxSeries)
          return { failure: `the engine holds more than ${maxSeries} series for "${definition.name}"` };
        row = seriesRowOf(rows.size, labels);
        rows.set(key, row);
      }
      bySeries.set(row.id, stepSums(steps, counted.get(key)?.steps, queries.good));
    }
    sums.set(indicator, bySeries);
  }
  return {
    series: [...rows.values()],
    read: (ids, indicator) => {
      const bySeries = sums.get(indicator);
      return new Map(ids.map((id) => [id, bySeries?.get(id) ?? []]));
    },
  };
}
