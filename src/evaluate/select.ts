import type { SloDefinition } from '../definitions/slo.js';
import type { SeriesRow } from '../store/buckets.js';

/** Whether a series feeds an SLO: same kind of source, same service, and the selector's route and method. */
export function selects(definition: SloDefinition, series: SeriesRow): boolean {
  const { source, select } = definition.indicator;
  return (
    series.kind === source &&
    series.service === definition.service &&
    (select.route === undefined || series.operation === select.route) &&
    (select.method === undefined || series.method === select.method)
  );
}
