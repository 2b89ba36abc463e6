import { formatDuration } from '../../config/duration.js';
import { withWindow } from '../../definitions/promqlSource.js';
import { compositeCounts } from '../../evaluate/budgeting.js';
import { burnWindows } from '../../evaluate/math.js';
import { evaluateSlo } from '../../evaluate/status.js';
import { type SloPoint, type StepRange, sloPoint, stepTimes } from '../../evaluate/timeseries.js';
import type { PromQlIndicator } from '../../model/promql.js';
import type { SloDefinition } from '../../model/slo.js';
import type { EventCounts } from '../../model/status.js';
import { rangeQuery } from './client.js';
import { countedQuery, promQlEvents } from './source.js';

/**
 * An SLO read with PromQL (its own queries, or those generated for the engine: one indicator, or a composite's
 * components) over time for the dashboard's charts: one range query per window and query (its SLO window,
 * each burn-rate window, and the step for traffic), components combined by weight, evaluated per step with the
 * same evaluateSlo as the evaluator. Calendar windows take their nominal length here: a range query has one
 * range for every step.
 */
export async function promQlTimeseries(
  definition: SloDefinition,
  indicators: readonly PromQlIndicator[],
  range: StepRange,
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
  const burnNames = burnWindows(definition.windowMs).map(([name]) => name);
  const windows = [formatDuration(definition.windowMs), ...burnNames, formatDuration(range.stepMs)];
  const answers = await Promise.all(
    windows.map(async (window) => {
      const each = await Promise.all(
        indicators.map(async (indicator) => {
          const [total, counted] = await Promise.all([
            valuesAt(indicator, withWindow(indicator.total, window)),
            valuesAt(indicator, withWindow(countedQuery(indicator), window)),
          ]);
          return (atMs: number): EventCounts =>
            promQlEvents(indicator, total.get(atMs) ?? 0, counted.get(atMs) ?? 0);
        }),
      );
      return (atMs: number): EventCounts => combine(each.map((counts) => counts(atMs)));
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
    const bad = step.valid - step.good;
    // An availability SLI read with PromQL knows no other errors than its bad events.
    return sloPoint(status, { requests: step.valid, errors: bad, bad }, range.stepMs / 1000);
  });
}
