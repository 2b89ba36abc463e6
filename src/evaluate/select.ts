import type { SeriesOfService, SeriesRow } from '../model/series.js';
import type { Indicator, SloDefinition } from '../model/slo.js';

/** Trace series carry the span kind as their source; by default only server spans are requests served. */
export const DEFAULT_SPAN_KINDS: readonly string[] = ['server'];

/**
 * Whether a series feeds an SLO (or one of a composite's indicators): same kind of source, same service,
 * the collector if named, the selector's route and method, and for trace data one of the selected span kinds.
 */
export function selects(
  definition: SloDefinition,
  series: SeriesRow,
  indicator: Indicator = definition.indicator,
): boolean {
  const { source, select } = indicator;
  return (
    series.kind === source &&
    series.service === (select.service ?? definition.service) &&
    (select.collector === undefined || source !== 'loadbalancer' || series.source === select.collector) &&
    (select.route === undefined || series.operation === select.route) &&
    (select.method === undefined || series.method === select.method) &&
    (source !== 'traces' || (select.spanKinds ?? DEFAULT_SPAN_KINDS).includes(series.source))
  );
}

/** Where an evaluation finds series: a list of every series, or the store's reader by service and route. */
export type SeriesSource = readonly SeriesRow[] | SeriesOfService;

/** Series lists grouped by kind and service, built once per list (one per tick) and shared by its SLOs. */
const byService = new WeakMap<readonly SeriesRow[], Map<string, SeriesRow[]>>();
const serviceKey = (kind: string, service: string) => `${kind}\u0000${service}`;

function candidatesIn(series: readonly SeriesRow[], kind: string, service: string): readonly SeriesRow[] {
  let groups = byService.get(series);
  if (!groups) {
    groups = new Map();
    for (const row of series) {
      const key = serviceKey(row.kind, row.service);
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    byService.set(series, groups);
  }
  return groups.get(serviceKey(kind, service)) ?? [];
}

/**
 * The series that feed an indicator of an SLO. Only the series of the selected service (and route, when it
 * selects one) are tried, so a tick of n SLOs over m series does not call `selects` n × m times, and series
 * of other services or routes (an overflow flood) cost it nothing when read through the store's index.
 */
export function selectedSeries(
  definition: SloDefinition,
  series: SeriesSource,
  indicator: Indicator = definition.indicator,
): SeriesRow[] {
  const service = indicator.select.service ?? definition.service;
  if (indicator.source === 'prometheus') return [];
  const candidates =
    typeof series === 'function'
      ? series(indicator.source, service, indicator.select.route)
      : candidatesIn(series, indicator.source, service);
  return candidates.filter((row) => selects(definition, row, indicator));
}
