import { formatDuration } from '../../config/duration.js';
import { withWindow } from '../../definitions/promqlSource.js';
import { clip } from '../../definitions/timeWindows.js';
import { compositeCounts, summariseSlices } from '../../evaluate/budgeting.js';
import { type WindowRange, windowRange } from '../../evaluate/calendar.js';
import { addEvents, correctionIntervals, NO_EVENTS, withoutEvents } from '../../evaluate/corrections.js';
import { withoutExcludedSlices } from '../../evaluate/inputs.js';
import { burnWindows } from '../../evaluate/math.js';
import type { EvaluationInput } from '../../evaluate/status.js';
import type { BurnWindow, SliceSummary } from '../../model/budget.js';
import type { Correction } from '../../model/correction.js';
import type { PrometheusDataSource, PromQlIndicator } from '../../model/promql.js';
import type { SloDefinition } from '../../model/slo.js';
import type { EventCounts } from '../../model/status.js';
import type { Interval } from '../../model/timeWindow.js';
import type { CountsRead, CountsSource } from '../counts.js';
import { instantQuery, instantVector, PromQlError, rangeQuery, type VectorSample } from './client.js';
import { SliceCache } from './sliceCache.js';

/**
 * Up to this many new slices are read with the grouped queries at each slice end (shared by every SLO of the
 * kind: a warm tick is a few queries, not two per SLO); more (a cold window) with a range query per SLO.
 */
const GROUPED_SLICE_ENDS = 4;

/** Queries in flight at once per refresh: enough to finish quickly, few enough not to flood the engine. */
const MAX_IN_FLIGHT = 8;

/**
 * Queries that answer every series of a kind at once (`sum by` the series labels), asked once per window and
 * shared by every SLO; `pick` sums the series one indicator selects. One query per window for 1,000 SLOs,
 * where one per SLO took the engine tens of seconds a tick.
 */
export interface GroupedQueries {
  total: string;
  /** Good events when the indicator counts good ones, else bad. */
  counted: string;
  pick(answer: readonly VectorSample[]): number;
}

/** An indicator as a source reads it: its own queries (ranges use them), and grouped ones for windows when it has them. */
export type ReadIndicator = PromQlIndicator & { grouped?: GroupedQueries };

/**
 * How an SLO is read with PromQL at a tick: each indicator's queries and the time they are asked at. With
 * `eventsOnGridMs`, the queries count events (`increase`) on samples of that grid, so the events corrections
 * exclude are asked over their intervals (rounded to the grid) and subtracted; hand-written queries may be
 * rates, and are taken as they are.
 */
export type PromQlReading =
  | { indicators: ReadIndicator[]; atMs: number; eventsOnGridMs?: number }
  | { failure: string };

/** Which SLOs a PromQL source reads, and how. */
export interface PromQlPlan {
  reads(definition: SloDefinition): boolean;
  reading(definition: SloDefinition, nowMs: number): PromQlReading;
}

/** Hand-written PromQL (`source: prometheus`), asked at the tick's time. */
export const handWrittenPromQl: PromQlPlan = {
  reads: (definition) => definition.indicator.prometheus !== undefined && definition.composite === undefined,
  reading: (definition, nowMs) => ({ indicators: [definition.indicator.prometheus!], atMs: nowMs }),
};

/** The first plan that reads an SLO reads it. */
export function eitherPlan(...plans: readonly PromQlPlan[]): PromQlPlan {
  return {
    reads: (definition) => plans.some((plan) => plan.reads(definition)),
    reading: (definition, nowMs) => plans.find((plan) => plan.reads(definition))!.reading(definition, nowMs),
  };
}

/** Good and valid events from the answers of the total and the good (or bad) query over one window. */
export function promQlEvents(indicator: PromQlIndicator, total: number, counted: number): EventCounts {
  const good = indicator.good !== undefined ? counted : total - counted;
  return { good: Math.min(Math.max(good, 0), total), valid: total, errorBound: 0 };
}

/** The good (or bad) query of an indicator. */
export const countedQuery = (indicator: PromQlIndicator) => indicator.good ?? indicator.bad!;

/**
 * One refresh's queries to the engines: asked once each (SLOs that share a query share the answer), at most
 * MAX_IN_FLIGHT at a time; an engine that did not answer one query this refresh will not answer the rest in
 * time, so they fail at once and a down or hung engine costs one timeout per tick, not one per queued query.
 */
class QueryQueue {
  private readonly answers = new Map<string, Promise<unknown>>();
  private readonly unreachable = new Map<string, PromQlError>();
  private readonly waiting: Array<() => void> = [];
  private inFlight = 0;

  ask<T>(dataSource: PrometheusDataSource, key: string, run: () => Promise<T>): Promise<T> {
    // Per data source, not per URL: two DataSources may reach one engine with different credentials.
    const source = `${dataSource.name}\n${dataSource.url}`;
    const fullKey = `${source}\n${key}`;
    let answer = this.answers.get(fullKey) as Promise<T> | undefined;
    if (!answer) {
      answer = new Promise<void>((start) => {
        const go = () => {
          this.inFlight += 1;
          start();
        };
        if (this.inFlight < MAX_IN_FLIGHT) go();
        else this.waiting.push(go);
      })
        .then(() => {
          const known = this.unreachable.get(source);
          if (known) throw known;
          return run().catch((error: unknown) => {
            if (error instanceof PromQlError && error.unreachable) this.unreachable.set(source, error);
            throw error;
          });
        })
        .finally(() => {
          this.inFlight -= 1;
          this.waiting.shift()?.();
        });
      this.answers.set(fullKey, answer);
    }
    return answer;
  }
}

/** Every window an SLO is judged over at `nowMs`, as PromQL ranges: its own and each burn-rate window. */
export function queryWindows(
  definition: SloDefinition,
  nowMs: number,
): { window: string; range: WindowRange; burn: Array<[BurnWindow, string]> } {
  const range = windowRange(definition.windowSpec, nowMs);
  // A calendar period asks from its start; whole seconds, and at least a minute just after it began.
  const elapsedMs = Math.max(60_000, Math.round((nowMs - range.startMs) / 1000) * 1000);
  return {
    window: formatDuration(elapsedMs),
    range,
    burn: burnWindows(definition.windowMs).map(([name]) => [name, name]),
  };
}

/**
 * The closed slices of a window at `atMs`, cut where the store cuts them (rolling windows on multiples of the
 * slice length, calendar windows from the period start): the first slice's end, and how many have closed.
 */
export function closedSliceSpan(
  definition: SloDefinition,
  range: WindowRange,
  sliceMs: number,
  atMs: number,
): { firstEndMs: number; count: number } {
  const first =
    definition.windowSpec.kind === 'calendar' ? range.startMs : Math.ceil(range.startMs / sliceMs) * sliceMs;
  return { firstEndMs: first + sliceMs, count: Math.max(0, Math.floor((atMs - first) / sliceMs)) };
}

/**
 * SLIs read from a Prometheus-compatible engine: hand-written PromQL (`source: prometheus`) and, with an engine
 * configured for native data, the queries sloguard generates over its collectors' series (sources/engine/).
 * Each refresh asks every query once, with the data source's timeout; an SLO whose queries fail keeps no
 * numbers from this tick and is reported stale. Composites combine their components' counts by weight, and
 * slice budgeting reads each closed slice with a range query whose step is the slice.
 */
export class PrometheusCounts implements CountsSource {
  private results = new Map<string, CountsRead>();
  /** Finished slices of the SLOs read on an engine's grid (hand-written PromQL may still change: not kept). */
  readonly sliceCache = new SliceCache();

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly plan: PromQlPlan = handWrittenPromQl,
  ) {}

  reads(definition: SloDefinition): boolean {
    return this.plan.reads(definition);
  }

  async refresh(
    definitions: readonly SloDefinition[],
    nowMs: number,
    corrections: readonly Correction[] = [],
  ): Promise<void> {
    const queue = new QueryQueue();
    const instant = (indicator: PromQlIndicator, expr: string, atMs: number) =>
      queue.ask(indicator.dataSource, `${atMs}\n${expr}`, () =>
        instantQuery(indicator.dataSource, expr, atMs, this.env),
      );
    const picked = (indicator: ReadIndicator, expr: string, atMs: number) =>
      queue
        .ask(indicator.dataSource, `vector\n${atMs}\n${expr}`, () =>
          instantVector(indicator.dataSource, expr, atMs, this.env),
        )
        .then((answer) => indicator.grouped!.pick(answer));
    const windowCounts = async (indicator: ReadIndicator, window: string, atMs: number) => {
      const { grouped } = indicator;
      const [total, counted] = await Promise.all(
        grouped
          ? [
              picked(indicator, withWindow(grouped.total, window), atMs),
              picked(indicator, withWindow(grouped.counted, window), atMs),
            ]
          : [
              instant(indicator, withWindow(indicator.total, window), atMs),
              instant(indicator, withWindow(countedQuery(indicator), window), atMs),
            ],
      );
      return promQlEvents(indicator, total, counted);
    };
    const results = new Map<string, CountsRead>();
    this.sliceCache.retain(new Set(definitions.map((d) => d.name)));
    await Promise.all(
      definitions
        .filter((d) => this.reads(d))
        .map(async (definition) => {
          const reading = this.plan.reading(definition, nowMs);
          if ('failure' in reading) {
            results.set(definition.name, reading);
            return;
          }
          try {
            results.set(
              definition.name,
              await this.readSlo(definition, reading, corrections, queue, windowCounts),
            );
          } catch (error) {
            results.set(definition.name, { failure: (error as Error).message });
          }
        }),
    );
    this.results = results;
  }

  private async readSlo(
    definition: SloDefinition,
    { indicators, atMs, eventsOnGridMs }: Extract<PromQlReading, { atMs: number }>,
    corrections: readonly Correction[],
    queue: QueryQueue,
    windowCounts: (indicator: ReadIndicator, window: string, atMs: number) => Promise<EventCounts>,
  ): Promise<EvaluationInput> {
    const windows = queryWindows(definition, atMs);
    const combine = (each: EventCounts[]): EventCounts =>
      definition.composite
        ? compositeCounts(definition.composite.components, each, definition.objective)
        : each[0]!;
    const longestBurnMs = Math.max(...burnWindows(definition.windowMs).map(([, ms]) => ms));
    const corrected = correctionIntervals(
      definition,
      eventsOnGridMs === undefined ? [] : corrections,
      Math.min(windows.range.startMs, atMs - longestBurnMs),
      atMs,
      Number.NEGATIVE_INFINITY,
    );
    const onGrid = (ms: number) => Math.round(ms / eventsOnGridMs!) * eventsOnGridMs!;
    // Each indicator's events within intervals (the corrections'), from `fromMs` on: each interval is a
    // window of its own, asked at its end.
    const within = async (intervals: readonly Interval[], fromMs: number) => {
      const parts = clip(intervals, fromMs, atMs)
        .map(({ startMs, endMs }) => ({ startMs: onGrid(startMs), endMs: onGrid(endMs) }))
        .filter(({ startMs, endMs }) => endMs > startMs);
      return Promise.all(
        indicators.map(async (indicator) =>
          (
            await Promise.all(
              parts.map(({ startMs, endMs }) =>
                windowCounts(indicator, formatDuration(endMs - startMs), endMs),
              ),
            )
          ).reduce(addEvents, NO_EVENTS),
        ),
      );
    };
    const windowStarts = [
      windows.range.startMs,
      ...burnWindows(definition.windowMs).map(([, ms]) => atMs - ms),
    ];
    const ranges = [windows.window, ...windows.burn.map(([, range]) => range)];
    const [perIndicator, excludedPerWindow, slices] = await Promise.all([
      Promise.all(
        indicators.map((indicator) =>
          Promise.all(ranges.map((range) => windowCounts(indicator, range, atMs))),
        ),
      ),
      Promise.all(windowStarts.map((fromMs) => within(corrected.exclude, fromMs))),
      this.slices(definition, indicators[0]!, windows.range, atMs, corrected.exclude, queue, {
        keep: eventsOnGridMs !== undefined,
        windowCounts,
      }),
    ]);
    const [window, ...burn] = ranges.map((_, i) =>
      combine(perIndicator.map((counts, part) => withoutEvents(counts[i]!, excludedPerWindow[i]![part]!))),
    );
    const input: EvaluationInput = {
      window: window!,
      burnWindows: Object.fromEntries(windows.burn.map(([name], i) => [name, burn[i]!])),
      // The engine holds the data; what sloguard knows is that it answered with events at this time.
      lastObservationMs: window!.valid > 0 ? atMs : null,
      windowStartMs: windows.range.startMs,
      ...(definition.windowSpec.kind === 'calendar' && { windowEndMs: windows.range.endMs }),
      ...(slices && { slices }),
    };
    if (corrected.applied.length > 0) {
      input.corrections = {
        applied: corrected.applied,
        excluded: combine(excludedPerWindow[0]!),
        planned: combine(await within(corrected.planned, windows.range.startMs)),
      };
    }
    return input;
  }

  /** Slice budgeting: each closed slice's events, from range queries whose step is the slice (of the first indicator, as the store does). */
  private async slices(
    definition: SloDefinition,
    indicator: ReadIndicator,
    range: WindowRange,
    atMs: number,
    exclude: readonly Interval[],
    queue: QueryQueue,
    {
      keep,
      windowCounts,
    }: {
      keep: boolean;
      windowCounts: (indicator: ReadIndicator, window: string, atMs: number) => Promise<EventCounts>;
    },
  ): Promise<SliceSummary | undefined> {
    const slices = definition.timeslices;
    if (!slices || definition.budgeting === 'occurrences') return undefined;
    const { sliceMs } = slices;
    const { firstEndMs, count } = closedSliceSpan(definition, range, sliceMs, atMs);
    const sliceWindow = formatDuration(sliceMs);
    const queries = [indicator.total, countedQuery(indicator)].map((q) => withWindow(q, sliceWindow));
    const rangeValues = (expr: string, startMs: number, endMs: number) =>
      queue.ask(indicator.dataSource, `${startMs}\n${endMs}\n${sliceMs}\n${expr}`, () =>
        rangeQuery(indicator.dataSource, expr, { startMs, endMs, stepMs: sliceMs }, this.env),
      );
    const ask = async (startMs: number, endMs: number) => {
      const ends = Array.from({ length: (endMs - startMs) / sliceMs + 1 }, (_, i) => startMs + i * sliceMs);
      // A few new slices (a warm tick): the grouped queries at each end, shared by every SLO of the kind.
      if (indicator.grouped && ends.length <= GROUPED_SLICE_ENDS) {
        const events = await Promise.all(ends.map((end) => windowCounts(indicator, sliceWindow, end)));
        return new Map(ends.map((end, i) => [end, events[i]!]));
      }
      const [total, counted] = await Promise.all(queries.map((expr) => rangeValues(expr, startMs, endMs)));
      return new Map(
        ends.map((end) => [end, promQlEvents(indicator, total!.get(end) ?? 0, counted!.get(end) ?? 0)]),
      );
    };
    // On the engine's grid, a slice that ended by the read time is final: kept, and not asked again.
    const cache = keep ? this.sliceCache : new SliceCache();
    const key = JSON.stringify([indicator.dataSource.url, sliceMs, ...queries]);
    const values = await cache.read(definition.name, key, { firstEndMs, count, sliceMs }, ask);
    return summariseSlices(
      withoutExcludedSlices(values, firstEndMs - sliceMs, sliceMs, exclude),
      sliceMs / 60_000,
      slices.target,
      (range.endMs - range.startMs) / 60_000,
    );
  }

  /** What the last refresh found (corrections subtracted there). */
  read(definition: SloDefinition): CountsRead {
    return this.results.get(definition.name) ?? { failure: 'not read from the engine yet' };
  }

  /** The answers are in memory: a pass needs nothing held open. */
  readPass<T>(reads: () => T): T {
    return reads();
  }
}
