import Type, { type Static, type TSchema } from 'typebox';
import { RFC1123_NAME } from '../schema.js';

/**
 * OpenSLO v1 objects as the reference validator (OpenSLO/go-sdk pkg/openslo/v1) decodes them: strict (an
 * unknown field is an error, as its JSON decoder's DisallowUnknownFields), with the per-field rules its
 * validation declares. Rules that span fields (op forbidden with ratioMetric, calendar iff not rolling, …)
 * are in rules.ts.
 */

const strict = <T extends Record<string, TSchema>>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

const Name = Type.String({ pattern: RFC1123_NAME });
const Required = Type.String({ minLength: 1 });
const Description = Type.Optional(Type.String({ maxLength: 1050 }));
/** `[0-9]+[mhdwMQY]`: minutes, hours, days, weeks, months, quarters, years. */
export const DURATION_SHORTHAND = /^(\d+)([mhdwMQY])$/;
const DurationShorthand = Type.String({ pattern: DURATION_SHORTHAND.source });
const Operator = Type.Union([
  Type.Literal('gt'),
  Type.Literal('lt'),
  Type.Literal('gte'),
  Type.Literal('lte'),
]);

export const Metadata = strict({
  name: Name,
  displayName: Type.Optional(Type.String({ maxLength: 63 })),
  labels: Type.Optional(
    Type.Record(
      Type.String({ pattern: '^[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$' }),
      Type.Union([Type.String(), Type.Array(Type.String())]),
    ),
  ),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type Metadata = Static<typeof Metadata>;

const MetricSpec = strict({
  metricSource: strict({
    metricSourceRef: Type.Optional(Name),
    type: Type.Optional(Type.String()),
    spec: Type.Record(Type.String(), Type.Unknown(), { minProperties: 1 }),
  }),
});
export type MetricSpec = Static<typeof MetricSpec>;

export const SliSpec = strict({
  description: Description,
  thresholdMetric: Type.Optional(MetricSpec),
  ratioMetric: Type.Optional(
    strict({
      counter: Type.Optional(Type.Boolean()),
      good: Type.Optional(MetricSpec),
      bad: Type.Optional(MetricSpec),
      total: Type.Optional(MetricSpec),
      rawType: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
      raw: Type.Optional(MetricSpec),
    }),
  ),
});
export type SliSpec = Static<typeof SliSpec>;

const InlineIndicator = strict({ metadata: Metadata, spec: SliSpec });

const AlertConditionSpec = strict({
  description: Description,
  severity: Required,
  condition: strict({
    kind: Type.Literal('burnrate'),
    op: Operator,
    threshold: Type.Number(),
    lookbackWindow: DurationShorthand,
    alertAfter: Type.Optional(DurationShorthand),
  }),
});
export type AlertConditionSpec = Static<typeof AlertConditionSpec>;

const AlertNotificationTargetSpec = strict({ description: Description, target: Required });
export type AlertNotificationTargetSpec = Static<typeof AlertNotificationTargetSpec>;

/** A list item that is either a reference or an inline object; rules.ts checks it is exactly one. */
const refOrInline = <R extends string>(ref: R, kind: string, spec: TSchema) =>
  strict({
    [ref]: Type.Optional(Name),
    kind: Type.Optional(Type.Literal(kind)),
    metadata: Type.Optional(Metadata),
    spec: Type.Optional(spec),
  } as Record<R | 'kind' | 'metadata' | 'spec', TSchema>);

const AlertPolicySpec = strict({
  description: Description,
  alertWhenNoData: Type.Optional(Type.Boolean()),
  alertWhenBreaching: Type.Optional(Type.Boolean()),
  alertWhenResolved: Type.Optional(Type.Boolean()),
  conditions: Type.Array(refOrInline('conditionRef', 'AlertCondition', AlertConditionSpec), {
    minItems: 1,
    maxItems: 1,
  }),
  notificationTargets: Type.Array(
    refOrInline('targetRef', 'AlertNotificationTarget', AlertNotificationTargetSpec),
    { minItems: 1 },
  ),
});

const Objective = strict({
  displayName: Type.Optional(Type.String()),
  op: Type.Optional(Operator),
  value: Type.Optional(Type.Number()),
  target: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  targetPercent: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 100 })),
  timeSliceTarget: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  timeSliceWindow: Type.Optional(DurationShorthand),
  indicator: Type.Optional(InlineIndicator),
  indicatorRef: Type.Optional(Name),
  compositeWeight: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});
export type Objective = Static<typeof Objective>;

const TimeWindow = strict({
  duration: DurationShorthand,
  isRolling: Type.Optional(Type.Boolean()),
  calendar: Type.Optional(strict({ startTime: Type.String(), timeZone: Type.String() })),
});
export type TimeWindow = Static<typeof TimeWindow>;

const object = <K extends string, S extends TSchema>(kind: K, spec: S) =>
  strict({ apiVersion: Type.Literal('openslo/v1'), kind: Type.Literal(kind), metadata: Metadata, spec });

export const SCHEMAS = {
  SLO: object(
    'SLO',
    strict({
      description: Description,
      service: Required,
      indicator: Type.Optional(InlineIndicator),
      indicatorRef: Type.Optional(Name),
      budgetingMethod: Type.Union([
        Type.Literal('Occurrences'),
        Type.Literal('Timeslices'),
        Type.Literal('RatioTimeslices'),
      ]),
      timeWindow: Type.Optional(Type.Array(TimeWindow)),
      objectives: Type.Array(Objective),
      alertPolicies: Type.Optional(
        Type.Union([Type.Null(), Type.Array(refOrInline('alertPolicyRef', 'AlertPolicy', AlertPolicySpec))]),
      ),
    }),
  ),
  SLI: object('SLI', SliSpec),
  DataSource: object(
    'DataSource',
    strict({ description: Description, type: Required, connectionDetails: Type.Unknown() }),
  ),
  Service: Type.Object(
    {
      apiVersion: Type.Literal('openslo/v1'),
      kind: Type.Literal('Service'),
      metadata: Metadata,
      spec: Type.Optional(strict({ description: Description })),
    },
    { additionalProperties: false },
  ),
  AlertPolicy: object('AlertPolicy', AlertPolicySpec),
  AlertCondition: object('AlertCondition', AlertConditionSpec),
  AlertNotificationTarget: object('AlertNotificationTarget', AlertNotificationTargetSpec),
};
export type OpenSloKind = keyof typeof SCHEMAS;
export const OPENSLO_KINDS = Object.keys(SCHEMAS) as OpenSloKind[];

export type SloSpec = Static<(typeof SCHEMAS)['SLO']>['spec'];
export type AlertPolicySpec = Static<typeof AlertPolicySpec>;

/** The spec of `metricSource.type: sloguard`: which of sloguard's own series, and what a good event is. */
export const SloguardMetricSpec = strict({
  source: Type.Union([Type.Literal('loadbalancer'), Type.Literal('traces'), Type.Literal('otlp-metrics')]),
  collector: Type.Optional(Type.String({ minLength: 1 })),
  service: Type.Optional(Type.String({ minLength: 1 })),
  operation: Type.Optional(Type.String({ minLength: 1 })),
  method: Type.Optional(Type.String({ pattern: '^[A-Za-z]+$' })),
  good: Type.Optional(
    strict({ status: Type.Optional(Type.String()), latency: Type.Optional(Type.String()) }),
  ),
  metric: Type.Optional(Type.Literal('latency')),
});
export type SloguardMetricSpec = Static<typeof SloguardMetricSpec>;
