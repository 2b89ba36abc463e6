import { formatDuration } from '../../config/duration.js';
import { withWindow } from '../../definitions/promqlSource.js';
import { type WindowRange, windowRange } from '../../evaluate/calendar.js';
import { burnWindows } from '../../evaluate/math.js';
import type { BurnWindow } from '../../model/budget.js';
import type { PromQlIndicator } from '../../model/promql.js';
import type { SloDefinition } from '../../model/slo.js';
import type { EventCounts } from '../../model/status.js';
import type { CountsRead, CountsSource } from '../counts.js';
import { instantQuery, PromQlError } from './client.js';

/** Queries in flight at once per refresh: enough to finish quickly, few enough not to flood the engine. */
const MAX_IN_FLIGHT = 8;

type Query = (indicator: PromQlIndicator, expr: string) => Promise<number>;

/** Good and valid events from the answers of the total and the good (or bad) query over one window. */
export function promQlEvents(indicator: PromQlIndicator, total: number, counted: number): EventCounts {
  const good = indicator.good !== undefined ? counted : total - counted;
  return { good: Math.min(Math.max(good, 0), total), valid: total, errorBound: 0 };
}

/** The good (or bad) query of an indicator. */
export const countedQuery = (indicator: PromQlIndicator) => indicator.good ?? indicator.bad!;

async function windowCounts(indicator: PromQlIndicator, window: string, query: Query): Promise<EventCounts> {
  const [total, counted] = await Promise.all([
    query(indicator, withWindow(indicator.total, window)),
    query(indicator, withWindow(countedQuery(indicator), window)),
  ]);
  return promQlEvents(indicator, total, counted);
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
 * SLIs read from a Prometheus-compatible engine (`source: prometheus`). Each refresh asks every query at
 * the tick's time once (SLOs that share a query share the answer), with the data source's timeout; an SLO
 * whose queries fail keeps no numbers from this tick and is reported stale.
 */
export class PrometheusCounts implements CountsSource {
  private results = new Map<string, CountsRead>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  reads(definition: SloDefinition): boolean {
    return definition.indicator.prometheus !== undefined && definition.composite === undefined;
  }

  async refresh(definitions: readonly SloDefinition[], nowMs: number): Promise<void> {
    const answers = new Map<string, Promise<number>>();
    // An engine that did not answer one query this tick will not answer the rest in time: fail them at once,
    // so a down or hung engine costs one timeout per tick, not one per queued query.
    const unreachable = new Map<string, PromQlError>();
    const queue: Array<() => void> = [];
    let inFlight = 0;
    const release = () => {
      inFlight -= 1;
      queue.shift()?.();
    };
    const query: Query = (indicator, expr) => {
      // Per data source, not per URL: two DataSources may reach one engine with different credentials.
      const source = `${indicator.dataSource.name}\n${indicator.dataSource.url}`;
      const key = `${source}\n${expr}`;
      let answer = answers.get(key);
      if (!answer) {
        answer = new Promise<void>((start) => {
          const go = () => {
            inFlight += 1;
            start();
          };
          if (inFlight < MAX_IN_FLIGHT) go();
          else queue.push(go);
        })
          .then(() => {
            const known = unreachable.get(source);
            if (known) throw known;
            return instantQuery(indicator.dataSource, expr, nowMs, this.env).catch((error: unknown) => {
              if (error instanceof PromQlError && error.unreachable) unreachable.set(source, error);
              throw error;
            });
          })
          .finally(release);
        answers.set(key, answer);
      }
      return answer;
    };
    const results = new Map<string, CountsRead>();
    await Promise.all(
      definitions
        .filter((d) => this.reads(d))
        .map(async (definition) => {
          const indicator = definition.indicator.prometheus!;
          const windows = queryWindows(definition, nowMs);
          try {
            const [window, ...burn] = await Promise.all([
              windowCounts(indicator, windows.window, query),
              ...windows.burn.map(([, range]) => windowCounts(indicator, range, query)),
            ]);
            results.set(definition.name, {
              window: window!,
              burnWindows: Object.fromEntries(windows.burn.map(([name], i) => [name, burn[i]!])),
              // The engine holds the data; what sloguard knows is that it answered with events at this time.
              lastObservationMs: window!.valid > 0 ? nowMs : null,
              windowStartMs: windows.range.startMs,
              ...(definition.windowSpec.kind === 'calendar' && { windowEndMs: windows.range.endMs }),
            });
          } catch (error) {
            results.set(definition.name, { failure: (error as Error).message });
          }
        }),
    );
    this.results = results;
  }

  /** What the last refresh found; corrections are not applied to engine counts. */
  read(definition: SloDefinition): CountsRead {
    return this.results.get(definition.name) ?? { failure: 'not read from the engine yet' };
  }

  /** The answers are in memory: a pass needs nothing held open. */
  readPass<T>(reads: () => T): T {
    return reads();
  }
}
