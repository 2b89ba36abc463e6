import { formatDuration } from '../../config/duration.js';
import { withWindow } from '../../definitions/promqlSource.js';
import { compositeCounts } from '../../evaluate/budgeting.js';
import { withoutEvents } from '../../evaluate/corrections.js';
import { burnWindows } from '../../evaluate/math.js';
import { evaluateSlo } from '../../evaluate/status.js';
import { type SloPoint, type StepRange, sloPoint, stepTimes } from '../../evaluate/timeseries.js';
import type { PromQlIndicator } from '../../model/promql.js';
import type { SloDefinition } from '../../model/slo.js';
import type { EventCounts } from '../../model/status.js';
import type { Interval } from '../../model/timeWindow.js';
import { rangeQuery } from './client.js';
import { MAX_RANGE_STEPS } from './sliceCache.js';
import { countedQuery, promQlEvents } from './source.js';

const MINUTE_MS = 60_000;

/** Events per minute by the minute's start, summed over any range of minutes by binary search on prefix sums. */
class MinuteSums {
  private readonly starts: number[];
  private readonly prefix: Float64Array;

  constructor(values: ReadonlyMap<number, number>) {
    this.starts = [...values.keys()].sort((a, b) => a - b);
    this.prefix = new Float64Array(this.starts.length + 1);
    this.starts.forEach((start, i) => {
      this.prefix[i + 1] = this.prefix[i]! + values.get(start)!;
    });
  }

  /** The events of the minutes starting in [fromMs, toMs). */
  between(fromMs: number, toMs: number): number {
    return this.prefix[this.firstAtOrAfter(toMs)]! - this.prefix[this.firstAtOrAfter(fromMs)]!;
  }

  private firstAtOrAfter(ms: number): number {
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.starts[middle]! < ms) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * A query's events in each minute starting inside the intervals (as the store counts a minute slot by its
 * start): `increase(...[1m])` at each minute's end, in range queries of at most MAX_RANGE_STEPS minutes.
 */
async function minuteEvents(
  indicator: PromQlIndicator,
  query: string,
  intervals: readonly Interval[],
  env: NodeJS.ProcessEnv,
): Promise<MinuteSums> {
  const values = new Map<number, number>();
  const perMinute = withWindow(query, '1m');
  for (const { startMs, endMs } of intervals) {
    const firstMs = Math.ceil(startMs / MINUTE_MS) * MINUTE_MS;
    const minutes = Math.ceil((endMs - firstMs) / MINUTE_MS);
    for (let from = 0; from < minutes; from += MAX_RANGE_STEPS) {
      const to = Math.min(minutes, from + MAX_RANGE_STEPS);
      const answer = await rangeQuery(
        indicator.dataSource,
        perMinute,
        { startMs: firstMs + (from + 1) * MINUTE_MS, endMs: firstMs + to * MINUTE_MS, stepMs: MINUTE_MS },
        env,
      );
      for (const [atMs, value] of answer) values.set(atMs - MINUTE_MS, value);
    }
  }
  return new MinuteSums(values);
}

/**
 * An SLO read with PromQL (its own queries, or those generated for the engine: one indicator, or a composite's
 * components) over time for the dashboard's charts: one range query per window and query (its SLO window,
 * each burn-rate window, and the step for traffic), components combined by weight, evaluated per step with the
 * same evaluateSlo as the evaluator. Calendar windows take their nominal length here: a range query has one
 * range for every step. Events in `exclude` (corrections of native SLOs on an engine) are left out of each
 * window and step, by the minute as the store leaves them out, from the queries asked per minute over them.
 */
export async function promQlTimeseries(
  definition: SloDefinition,
  indicators: readonly PromQlIndicator[],
  range: StepRange,
  exclude: readonly Interval[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<SloPoint[]> {
  const times = stepTimes(range);
  if (times.length === 0) return [];
  // Step ends lie on one grid, but the last point may be `to` itself: it gets a range of its own.
  const spans = times
    .filter((t) => (t - times[0]!) % range.stepMs !== 0)
    .map((t) => ({ startMs: t, endMs: t }));
  const grid = times.filter((t) => (t - times[0]!) % range.stepMs === 0);
  spans.unshift({ startMs: grid[0]!, endMs: grid.at(-1)! });
  const valuesAt = async (indicator: PromQlIndicator, query: string) => {
    const answers = await Promise.all(
      spans.map((span) => rangeQuery(indicator.dataSource, query, { ...span, stepMs: range.stepMs }, env)),
    );
    return new Map(answers.flatMap((answer) => [...answer]));
  };
  const combine = (each: EventCounts[]): EventCounts =>
    definition.composite
      ? compositeCounts(definition.composite.components, each, definition.objective)
      : each[0]!;
  const burns = burnWindows(definition.windowMs);
  const burnNames = burns.map(([name]) => name);
  const windowsMs = [definition.windowMs, ...burns.map(([, ms]) => ms), range.stepMs];
  const excluded = await Promise.all(
    indicators.map(async (indicator) => {
      if (exclude.length === 0) return () => undefined;
      const [total, counted] = await Promise.all([
        minuteEvents(indicator, indicator.total, exclude, env),
        minuteEvents(indicator, countedQuery(indicator), exclude, env),
      ]);
      return (fromMs: number, toMs: number): EventCounts | undefined =>
        promQlEvents(indicator, total.between(fromMs, toMs), counted.between(fromMs, toMs));
    }),
  );
  const answers = await Promise.all(
    windowsMs.map(async (windowMs) => {
      const window = formatDuration(windowMs);
      const each = await Promise.all(
        indicators.map(async (indicator, part) => {
          const [total, counted] = await Promise.all([
            valuesAt(indicator, withWindow(indicator.total, window)),
            valuesAt(indicator, withWindow(countedQuery(indicator), window)),
          ]);
          return (atMs: number, corrected: boolean): EventCounts => {
            const all = promQlEvents(indicator, total.get(atMs) ?? 0, counted.get(atMs) ?? 0);
            const left = corrected && excluded[part]!(atMs - windowMs, atMs);
            return left ? withoutEvents(all, left) : all;
          };
        }),
      );
      return (atMs: number, corrected = true): EventCounts =>
        combine(each.map((counts) => counts(atMs, corrected)));
    }),
  );
  const [sloWindow, ...rest] = answers;
  const stepCounts = rest.pop()!;
  return times.map((atMs) => {
    const status = evaluateSlo(
      definition,
      {
        window: sloWindow!(atMs),
        burnWindows: Object.fromEntries(burnNames.map((name, i) => [name, rest[i]!(atMs)])),
        lastObservationMs: null,
        windowStartMs: atMs - definition.windowMs,
      },
      atMs,
    );
    const step = stepCounts(atMs);
    // Traffic is what came, corrected or not (as the store charts it); an availability SLI read with PromQL
    // knows no other errors than its bad events.
    const all = stepCounts(atMs, false);
    return sloPoint(
      status,
      { requests: all.valid, errors: all.valid - all.good, bad: step.valid - step.good },
      range.stepMs / 1000,
    );
  });
}
