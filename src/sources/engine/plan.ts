import { formatDuration } from '../../config/duration.js';
import type { EngineSettings } from '../../config/engine.js';
import { withWindow } from '../../definitions/promqlSource.js';
import type { PrometheusDataSource, PromQlIndicator } from '../../model/promql.js';
import { indicatorsOf, type SloDefinition, seriesKeptLocally } from '../../model/slo.js';
import type { EventCounts } from '../../model/status.js';
import { instantQuery, PromQlError } from '../promql/client.js';
import { countedQuery, type PromQlPlan, promQlEvents, type ReadIndicator } from '../promql/source.js';
import { type EngineBreakdownReader, engineBreakdown } from './breakdown.js';
import { engineIndicator, engineReadTime, nativeQueries } from './queries.js';

/**
 * Native SLOs (`source: loadbalancer | traces`, composites of them) read from the engine through generated
 * PromQL, at the last grid point every collector has written. The DataSource is looked up at each tick, so a
 * reload that changes it is followed; one that is missing makes these SLOs stale, saying why.
 */
export function enginePlan(
  settings: EngineSettings,
  dataSources: () => ReadonlyMap<string, PrometheusDataSource>,
): PromQlPlan {
  const generated = new WeakMap<
    SloDefinition,
    { dataSource: PrometheusDataSource; indicators: ReadIndicator[] }
  >();
  return {
    reads: seriesKeptLocally,
    reading(definition, nowMs) {
      const dataSource = dataSources().get(settings.dataSource);
      if (!dataSource) return { failure: `data.engine: no DataSource named "${settings.dataSource}"` };
      let queries = generated.get(definition);
      if (queries?.dataSource !== dataSource) {
        queries = {
          dataSource,
          indicators: indicatorsOf(definition).map((i) => engineIndicator(definition, i, dataSource)),
        };
        generated.set(definition, queries);
      }
      return {
        indicators: queries.indicators,
        atMs: engineReadTime(nowMs, settings.gridMs, settings.delayMs),
        eventsOnGridMs: settings.gridMs,
      };
    },
  };
}

/**
 * The queries a chart asks the engine over its range, per indicator (a native SLO's own, not the grouped ones;
 * a composite's components'); a missing DataSource fails as an engine that does not answer.
 */
export function engineChartQueries(
  settings: EngineSettings,
  dataSources: () => ReadonlyMap<string, PrometheusDataSource>,
): (definition: SloDefinition) => PromQlIndicator[] | undefined {
  return (definition) => {
    if (definition.indicator.prometheus) return [definition.indicator.prometheus];
    if (!seriesKeptLocally(definition)) return undefined;
    const dataSource = dataSources().get(settings.dataSource);
    if (!dataSource) throw new PromQlError(`data.engine: no DataSource named "${settings.dataSource}"`);
    return indicatorsOf(definition).map((indicator) => engineIndicator(definition, indicator, dataSource));
  };
}

/**
 * The breakdown of a native SLO (or a composite of them) read from the engine; `undefined` for SLOs it does
 * not read (hand-written PromQL). A missing DataSource fails as an engine that does not answer.
 */
export function engineBreakdownReader(
  settings: EngineSettings,
  dataSources: () => ReadonlyMap<string, PrometheusDataSource>,
  maxSeries: number,
): EngineBreakdownReader {
  return (definition, range) => {
    if (!seriesKeptLocally(definition)) return undefined;
    const dataSource = dataSources().get(settings.dataSource);
    if (!dataSource)
      return Promise.reject(new PromQlError(`data.engine: no DataSource named "${settings.dataSource}"`));
    return engineBreakdown(definition, dataSource, range, maxSeries);
  };
}

const MINUTE_MS = 60_000;

/**
 * An SLO's events over a period read with PromQL, for a deployment's impact: a hand-written PromQL SLO's own
 * queries, a native one's generated queries when its data is in an engine (its first indicator, as the store
 * reads it there). The period is the store's: whole minutes from the one of `fromMs` to the one after `toMs`.
 */
export function promQlPeriodCounts(
  settings: EngineSettings | undefined,
  dataSources: () => ReadonlyMap<string, PrometheusDataSource>,
): (definition: SloDefinition, fromMs: number, toMs: number) => Promise<EventCounts> | undefined {
  return (definition, fromMs, toMs) => {
    const { indicator } = definition;
    let queries: PromQlIndicator | undefined = indicator.prometheus;
    if (!queries && settings) {
      const dataSource = dataSources().get(settings.dataSource);
      if (!dataSource)
        return Promise.reject(new PromQlError(`data.engine: no DataSource named "${settings.dataSource}"`));
      queries = { dataSource, ...nativeQueries(definition, indicator) };
    }
    if (!queries) return undefined;
    const startMs = Math.floor(fromMs / MINUTE_MS) * MINUTE_MS;
    const endMs = Math.ceil(toMs / MINUTE_MS) * MINUTE_MS;
    const window = formatDuration(endMs - startMs);
    const asked = queries;
    return Promise.all([
      instantQuery(asked.dataSource, withWindow(asked.total, window), endMs),
      instantQuery(asked.dataSource, withWindow(countedQuery(asked), window), endMs),
    ]).then(([total, counted]) => promQlEvents(asked, total, counted));
  };
}
