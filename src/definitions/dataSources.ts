import type { SourceLocation } from '../model/location.js';
import type { PrometheusDataSource } from '../model/promql.js';
import type { SloDefinition } from '../model/slo.js';
import { NativeDataSource, readDataSource } from './promqlSource.js';
import { check, failer } from './schemaCheck.js';
import { DefinitionError, type YamlDocument } from './yamlSource.js';

export interface LocatedDataSource {
  dataSource: PrometheusDataSource;
  location: SourceLocation;
}

/** A `kind: DataSource` document: a Prometheus-compatible engine SLOs name by `dataSource:`. */
export function readNativeDataSource(document: YamlDocument): LocatedDataSource {
  const value = check<NativeDataSource>(NativeDataSource, document);
  return {
    dataSource: readDataSource(value.metadata.name, value.spec, failer(document)),
    location: document.locate([]),
  };
}

/**
 * Points every PromQL indicator that names a DataSource at it, once all files are read; an SLO naming one
 * that is not defined (or defined twice) is an error and is dropped.
 */
export function linkDataSources(
  definitions: readonly SloDefinition[],
  dataSources: readonly LocatedDataSource[],
  errors: DefinitionError[],
): SloDefinition[] {
  const byName = new Map<string, PrometheusDataSource>();
  for (const { dataSource, location } of dataSources) {
    if (byName.has(dataSource.name))
      errors.push(
        new DefinitionError(location, 'metadata.name', `duplicate DataSource "${dataSource.name}"`),
      );
    else byName.set(dataSource.name, dataSource);
  }
  return definitions.flatMap((definition) => {
    const prometheus = definition.indicator.prometheus;
    if (prometheus?.dataSource.url !== '') return [definition];
    const dataSource = byName.get(prometheus.dataSource.name);
    if (!dataSource) {
      errors.push(
        new DefinitionError(
          definition.location,
          'spec.indicator.prometheus.dataSource',
          `no DataSource named "${prometheus.dataSource.name}"`,
        ),
      );
      return [];
    }
    return [
      { ...definition, indicator: { ...definition.indicator, prometheus: { ...prometheus, dataSource } } },
    ];
  });
}

/**
 * What PromQL SLIs cannot do yet, refused where it is written rather than shown wrong: composites (evaluated
 * from sloguard's own buckets only) and time-slice budgeting (it needs per-slice counts, not window totals).
 */
export function refuseUnsupportedPromQl(
  definitions: readonly SloDefinition[],
  errors: DefinitionError[],
): SloDefinition[] {
  return definitions.filter((definition) => {
    const promQl = definition.composite?.components.find((component) => component.indicator.prometheus);
    const reason = promQl
      ? `composite "${definition.name}" includes "${promQl.name}", read with PromQL; composites combine only loadbalancer and traces SLIs`
      : definition.indicator.prometheus && definition.budgeting !== 'occurrences'
        ? `"${definition.name}" is read with PromQL, which budgets by occurrences only, not ${definition.budgeting}`
        : undefined;
    if (reason) errors.push(new DefinitionError(definition.location, 'spec', reason));
    return reason === undefined;
  });
}
