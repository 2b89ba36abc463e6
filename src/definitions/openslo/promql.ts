import { Value } from 'typebox/value';
import { describe, mostUseful } from '../../config/schemaErrors.js';
import type { Indicator } from '../../model/slo.js';
import type { LocatedDataSource } from '../dataSources.js';
import { DataSourceSpec, readDataSource, readPromQlQueries, WINDOW_PLACEHOLDER } from '../promqlSource.js';
import { DefinitionError } from '../yamlSource.js';
import type { OpenSloObject } from './objects.js';
import type { MetricSpec, SliSpec } from './schema.js';

/** OpenSLO's `metricSource.type` (and DataSource `spec.type`) for a Prometheus-compatible engine. */
export const isPrometheusType = (type: string | undefined) => type?.toLowerCase() === 'prometheus';

type Fail = (field: string, reason: string) => never;

/**
 * An OpenSLO ratioMetric whose metric sources are `type: Prometheus`: `spec.query` of good (or bad) and total,
 * with `{{.window}}`, from the DataSource `metricSourceRef` names. Undefined when the metrics are another type
 * or the queries have no `{{.window}}`.
 * Field names given to `fail` are relative to the ratioMetric.
 */
export function openSloPromQl(ratio: NonNullable<SliSpec['ratioMetric']>, fail: Fail): Indicator | undefined {
  const metrics = { good: ratio.good, bad: ratio.bad, total: ratio.total };
  const present = Object.entries(metrics).filter(
    (entry): entry is [string, MetricSpec] => entry[1] !== undefined,
  );
  // Queries without the window placeholder (OpenSLO's own examples) are left to the caller's foreign-source
  // warning: sloguard cannot tell which range to ask for.
  const windowed = present.every(([, metric]) =>
    String(metric.metricSource.spec.query).includes(WINDOW_PLACEHOLDER),
  );
  if (!windowed || !present.some(([, metric]) => isPrometheusType(metric.metricSource.type)))
    return undefined;
  const queries: Record<string, string> = {};
  const refs = new Set<string>();
  for (const [key, metric] of present) {
    const at = `${key}.metricSource`;
    if (!isPrometheusType(metric.metricSource.type))
      fail(`${at}.type`, 'every metric of the ratio must be Prometheus');
    const query = metric.metricSource.spec.query;
    if (typeof query !== 'string' || query === '')
      fail(`${at}.spec.query`, 'a Prometheus metric needs spec.query');
    if (!metric.metricSource.metricSourceRef) fail(`${at}.metricSourceRef`, 'name the Prometheus DataSource');
    queries[key] = query as string;
    refs.add(metric.metricSource.metricSourceRef!);
  }
  if (refs.size > 1)
    fail('total.metricSource.metricSourceRef', 'good, bad and total must read the same DataSource');
  if (queries.total === undefined) fail('total', 'a Prometheus ratio needs total');
  const prometheus = readPromQlQueries(
    {
      dataSource: [...refs][0]!,
      total: queries.total!,
      ...(queries.good && { good: queries.good }),
      ...(queries.bad && { bad: queries.bad }),
    },
    '',
    (field, reason) =>
      fail(field.replace(/^\./, '').replace(/^(good|bad|total)$/, '$1.metricSource.spec.query'), reason),
  );
  return { source: 'prometheus', select: {}, good: { kind: 'availability' }, prometheus };
}

/**
 * OpenSLO `kind: DataSource` objects of `type: Prometheus`; their `connectionDetails` take the native
 * DataSource's fields (url, timeout, auth).
 */
export function openSloDataSources(objects: readonly OpenSloObject<'DataSource'>[]): {
  dataSources: LocatedDataSource[];
  errors: DefinitionError[];
} {
  const dataSources: LocatedDataSource[] = [];
  const errors: DefinitionError[] = [];
  for (const object of objects) {
    if (!isPrometheusType(object.value.spec.type)) continue;
    const spec = { ...(object.value.spec.connectionDetails as object), type: 'prometheus' };
    const error = mostUseful(Value.Errors(DataSourceSpec, spec));
    const at = (field: string) => ['spec', 'connectionDetails', ...field.split('.').filter(Boolean)];
    try {
      if (error) {
        const { path, reason } = describe(error);
        throw new DefinitionError(
          object.document.locate(at(path.join('.'))),
          `spec.connectionDetails.${path.join('.')}`,
          reason,
        );
      }
      const dataSource = readDataSource(object.name, spec as DataSourceSpec, (field, reason) => {
        const inner = field.replace(/^spec\./, '');
        throw new DefinitionError(
          object.document.locate(at(inner)),
          `spec.connectionDetails.${inner}`,
          reason,
        );
      });
      dataSources.push({ dataSource, location: object.location });
    } catch (caught) {
      if (!(caught instanceof DefinitionError)) throw caught;
      errors.push(caught);
    }
  }
  return { dataSources, errors };
}
