import type { Indicator, SloDefinition } from '../definitions/slo.js';
import type { SeriesRow } from '../store/buckets.js';

/** Trace series carry the span kind as their source; by default only server spans are requests served. */
const DEFAULT_SPAN_KINDS: readonly string[] = ['server'];

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
