import { Value } from 'typebox/value';
import { describe, mostUseful } from '../../config/schemaErrors.js';
import type {
  BudgetingMethod,
  CalendarUnit,
  CompositeComponent,
  GoodCondition,
  Indicator,
  SloDefinition,
  TimeSlices,
  WindowSpec,
} from '../../model/slo.js';
import { parseGood } from '../native.js';
import { describeWindow, NOMINAL_UNIT_MS, nominalWindowMs } from '../window.js';
import { DefinitionError, type YamlDocument } from '../yamlSource.js';
import type { IndicatorSource, OpenSloObject } from './objects.js';
import { openSloPromQl } from './promql.js';
import { fieldName } from './rules.js';
import {
  DURATION_SHORTHAND,
  type MetricSpec,
  type Objective,
  SloguardMetricSpec,
  type TimeWindow,
} from './schema.js';

/** The `metricSource.type` that reads sloguard's own series (README: "OpenSLO support"). */
export const SLOGUARD_METRIC_TYPE = 'sloguard';

type Path = Array<string | number>;

const UNITS: Record<string, CalendarUnit> = {
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  M: 'month',
  Q: 'quarter',
  Y: 'year',
};

function shorthand(text: string): { count: number; unit: CalendarUnit } {
  const [, count, unit] = DURATION_SHORTHAND.exec(text)!;
  return { count: Number(count), unit: UNITS[unit!]! };
}

/** Rolling windows take OpenSLO's nominal unit lengths; calendar windows keep their unit and zone. */
export function windowSpecOf(window: TimeWindow): WindowSpec {
  const { count, unit } = shorthand(window.duration);
  if (window.isRolling || !window.calendar) return { kind: 'rolling', ms: count * NOMINAL_UNIT_MS[unit] };
  return {
    kind: 'calendar',
    unit,
    count,
    timeZone: window.calendar.timeZone,
    anchor: window.calendar.startTime,
  };
}

const METHODS: Record<string, BudgetingMethod> = {
  Occurrences: 'occurrences',
  Timeslices: 'timeslices',
  RatioTimeslices: 'ratio-timeslices',
};

/** Raised while mapping; becomes an error at its place. */
class MappingError extends Error {
  constructor(
    readonly document: YamlDocument,
    readonly path: Path,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Not an error: the SLO reads another system's metrics, which sloguard validates but does not evaluate. */
class ForeignSource extends Error {
  constructor(
    readonly type: string,
    readonly document: YamlDocument,
    readonly path: Path,
  ) {
    super(type);
  }
}

function sloguardSpec(metric: MetricSpec, source: IndicatorSource, at: Path): SloguardMetricSpec {
  const { type, spec } = metric.metricSource;
  if (type?.toLowerCase() !== SLOGUARD_METRIC_TYPE)
    throw new ForeignSource(type ?? '(none)', source.document, [
      ...source.path,
      ...at,
      'metricSource',
      'type',
    ]);
  const error = mostUseful(Value.Errors(SloguardMetricSpec, spec));
  if (error) {
    const { path, reason } = describe(error);
    throw new MappingError(source.document, [...source.path, ...at, 'metricSource', 'spec', ...path], reason);
  }
  return spec as SloguardMetricSpec;
}

function indicatorFrom(metric: SloguardMetricSpec, good: GoodCondition, sloService: string): Indicator {
  const method = metric.method?.toUpperCase();
  return {
    source: metric.source,
    select: {
      ...(metric.operation !== undefined && { route: metric.operation }),
      ...(method !== undefined && { method }),
      ...(metric.service !== undefined && metric.service !== sloService && { service: metric.service }),
      ...(metric.collector !== undefined && { collector: metric.collector }),
    },
    good,
  };
}

/** Reads an indicator whose metric sources are `type: sloguard`, with the objective's op/value for thresholds. */
function readIndicator(
  source: IndicatorSource,
  objective: Objective,
  objectivePath: Path,
  service: string,
): Indicator {
  const { thresholdMetric, ratioMetric } = source.spec;
  const fail =
    (document: YamlDocument, path: Path) =>
    (field: string, reason: string): never => {
      throw new MappingError(document, [...path, ...field.split('.')], reason);
    };
  const promQl =
    ratioMetric && openSloPromQl(ratioMetric, fail(source.document, [...source.path, 'ratioMetric']));
  if (promQl) return promQl;
  if (thresholdMetric) {
    const metric = sloguardSpec(thresholdMetric, source, ['thresholdMetric']);
    const at = [...source.path, 'thresholdMetric', 'metricSource', 'spec'];
    if (metric.metric !== 'latency' || metric.good)
      throw new MappingError(
        source.document,
        at,
        'a sloguard thresholdMetric needs `metric: latency` and no `good`',
      );
    if (objective.op !== 'lt' && objective.op !== 'lte')
      throw new MappingError(
        source.document,
        [...objectivePath, 'op'],
        'a latency threshold needs op lt or lte (fast requests are good)',
      );
    if (objective.value === undefined || objective.value <= 0)
      throw new MappingError(
        source.document,
        [...objectivePath, 'value'],
        'a latency threshold needs a positive value in milliseconds',
      );
    const text = `${objective.op === 'lt' ? '<' : '<='} ${objective.value}ms`;
    return indicatorFrom(metric, parseGood({ latency: text }, fail(source.document, at)), service);
  }
  const ratio = ratioMetric!;
  if (!ratio.good || !ratio.total) {
    sloguardSpec((ratio.raw ?? ratio.bad ?? ratio.total)!, source, [
      'ratioMetric',
      ratio.raw ? 'raw' : 'bad',
    ]);
    throw new MappingError(
      source.document,
      [...source.path, 'ratioMetric'],
      'a sloguard ratioMetric is good over total',
    );
  }
  const good = sloguardSpec(ratio.good, source, ['ratioMetric', 'good']);
  const total = sloguardSpec(ratio.total, source, ['ratioMetric', 'total']);
  const goodAt = [...source.path, 'ratioMetric', 'good', 'metricSource', 'spec'];
  const { good: condition, ...goodSelector } = good;
  if (total.good || total.metric)
    throw new MappingError(
      source.document,
      [...source.path, 'ratioMetric', 'total', 'metricSource', 'spec'],
      'total selects series only',
    );
  if (JSON.stringify(Object.entries(goodSelector).sort()) !== JSON.stringify(Object.entries(total).sort()))
    throw new MappingError(
      source.document,
      goodAt,
      'good must select the same series as total, and add `good:`',
    );
  return indicatorFrom(total, parseGood(condition, fail(source.document, goodAt)), service);
}

function objectiveOf(objective: Objective): number {
  return objective.target ?? objective.targetPercent! / 100;
}

function timeslicesOf(
  objective: Objective,
  method: BudgetingMethod,
  document: YamlDocument,
  at: Path,
): TimeSlices | undefined {
  if (method === 'occurrences') return undefined;
  const { count, unit } = shorthand(objective.timeSliceWindow!);
  if (['month', 'quarter', 'year'].includes(unit))
    throw new MappingError(
      document,
      [...at, 'timeSliceWindow'],
      'a time slice is minutes, hours, days or weeks',
    );
  const sliceMs = count * NOMINAL_UNIT_MS[unit];
  return { sliceMs, ...(method === 'timeslices' && { target: objective.timeSliceTarget! }) };
}

function labelsOf(labels: Record<string, string | string[]> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
  );
}

/**
 * OpenSLO has no runbook or owner field: sloguard reads the annotations `sloguard.dev/runbook` (or the
 * Prometheus habit `runbook_url`) and `sloguard.dev/owner`, else the label `owner`, else `team`.
 */
function ownershipOf(metadata: {
  labels?: Record<string, string | string[]>;
  annotations?: Record<string, string>;
}): { runbook?: string; owner?: string } {
  const annotations = metadata.annotations ?? {};
  const labels = labelsOf(metadata.labels);
  const runbook = annotations['sloguard.dev/runbook'] ?? annotations.runbook_url;
  const owner = annotations['sloguard.dev/owner'] ?? labels.owner ?? labels.team;
  return {
    ...(runbook !== undefined && /^https?:\/\//.test(runbook) && { runbook }),
    ...(owner !== undefined && owner !== '' && { owner }),
  };
}

/**
 * Maps one resolved OpenSLO SLO to SloDefinitions: one per objective (named `<slo>-<n>` when there are
 * several), or one composite whose components are the objectives weighted by `compositeWeight`. SLOs that
 * read other systems' metrics give a warning instead.
 */
export function toSloDefinitions(
  slo: OpenSloObject<'SLO'>,
  sources: IndicatorSource[],
): { definitions: SloDefinition[]; errors: DefinitionError[]; warnings: DefinitionError[] } {
  const { spec, metadata } = slo.value;
  const method = METHODS[spec.budgetingMethod]!;
  const windowSpec = windowSpecOf(spec.timeWindow![0]!);
  const base = {
    service: spec.service,
    ...(metadata.displayName !== undefined && { displayName: metadata.displayName }),
    ...(spec.description !== undefined && { description: spec.description }),
    labels: labelsOf(metadata.labels),
    ...ownershipOf(metadata),
    windowMs: nominalWindowMs(windowSpec),
    window: describeWindow(windowSpec),
    windowSpec,
    format: 'openslo' as const,
    location: slo.location,
    nameLocation: slo.document.locate(['metadata', 'name']),
  };
  try {
    const composite = sources.length > 1 || spec.objectives.some((o) => o.indicator || o.indicatorRef);
    if (composite) {
      if (method !== 'occurrences')
        throw new MappingError(
          slo.document,
          ['spec', 'budgetingMethod'],
          'sloguard evaluates composite SLOs with Occurrences budgeting',
        );
      const components: CompositeComponent[] = spec.objectives.map((objective, index) => ({
        name: objective.displayName ?? sources[index]!.name,
        indicator: readIndicator(sources[index]!, objective, ['spec', 'objectives', index], spec.service),
        weight: objective.compositeWeight ?? 1,
        objective: objectiveOf(objective),
      }));
      const totalWeight = components.reduce((sum, c) => sum + c.weight, 0);
      const objective = components.reduce((sum, c) => sum + c.weight * c.objective, 0) / totalWeight;
      return {
        definitions: [
          {
            ...base,
            name: metadata.name,
            indicator: components[0]!.indicator,
            objective,
            objectivePercent: Number((objective * 100).toPrecision(12)),
            budgeting: method,
            composite: { components },
          },
        ],
        errors: [],
        warnings: [],
      };
    }
    const definitions = spec.objectives.map((objective, index): SloDefinition => {
      const path = ['spec', 'objectives', index];
      const target = objectiveOf(objective);
      const timeslices = timeslicesOf(objective, method, slo.document, path);
      return {
        ...base,
        name: spec.objectives.length === 1 ? metadata.name : `${metadata.name}-${index + 1}`,
        indicator: readIndicator(sources[0]!, objective, path, spec.service),
        objective: target,
        objectivePercent: Number((target * 100).toPrecision(12)),
        budgeting: method,
        ...(timeslices && { timeslices }),
      };
    });
    return { definitions, errors: [], warnings: [] };
  } catch (error) {
    if (error instanceof ForeignSource) {
      const warning = new DefinitionError(
        error.document.locate(error.path),
        fieldName(error.path),
        `SLO "${metadata.name}" reads metricSource type ${error.type}; valid, but sloguard evaluates only \`type: ${SLOGUARD_METRIC_TYPE}\`, and \`type: Prometheus\` whose queries use {{.window}}`,
      );
      return { definitions: [], errors: [], warnings: [warning] };
    }
    if (error instanceof MappingError) {
      const where = new DefinitionError(
        error.document.locate(error.path),
        fieldName(error.path),
        `${error.reason} (SLO "${metadata.name}")`,
      );
      return { definitions: [], errors: [where], warnings: [] };
    }
    throw error;
  }
}
