import Type, { type Static } from 'typebox';
import { ExclusionsSpec, StatusSpec } from './eventRules.js';
import { PromQlQueries } from './promqlSource.js';

/** RFC-1123 label, as Kubernetes and OpenSLO name things. */
export const RFC1123_NAME = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

const Selector = Type.Object(
  {
    route: Type.Optional(Type.String({ minLength: 1 })),
    method: Type.Optional(Type.String({ pattern: '^[A-Za-z]+$' })),
    /** Trace data only: which span kinds count (default server; see src/ingest/zipkin/observe.ts). */
    spanKinds: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal('server'),
          Type.Literal('client'),
          Type.Literal('producer'),
          Type.Literal('consumer'),
        ]),
        { minItems: 1 },
      ),
    ),
  },
  { additionalProperties: false },
);

const GoodCondition = Type.Object(
  {
    status: Type.Optional(StatusSpec),
    latency: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const BadCondition = Type.Object({ status: StatusSpec }, { additionalProperties: false });

const Objective = Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 100 });

/** A rolling duration (`28d`) or the current calendar period in a time zone. */
const Window = Type.Union([
  Type.String(),
  Type.Object(
    {
      calendar: Type.Union([
        Type.Literal('week'),
        Type.Literal('month'),
        Type.Literal('quarter'),
        Type.Literal('year'),
      ]),
      timeZone: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
]);

/** Occurrences (default), or slices of time judged by their SLI (`target` percent) or averaged. */
const Budgeting = Type.Union([
  Type.Literal('occurrences'),
  Type.Object(
    {
      timeslices: Type.Object(
        { slice: Type.String(), target: Type.Number({ exclusiveMinimum: 0, maximum: 100 }) },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { ratioTimeslices: Type.Object({ slice: Type.String() }, { additionalProperties: false }) },
    { additionalProperties: false },
  ),
]);

/** Where to act on an alert: a runbook or playbook URL and the team that owns the SLO (docs/incidents.md). */
export const OwnershipFields = {
  runbook: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2048 })),
  owner: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
};

/** Valid events (or slices) a window needs before its budget is judged; see docs/slo-definitions.md. */
const MinValidEvents = Type.Integer({ minimum: 1, maximum: 1_000_000_000 });

const Metadata = Type.Object(
  {
    name: Type.String({ pattern: RFC1123_NAME }),
    service: Type.String({ minLength: 1 }),
    displayName: Type.Optional(Type.String()),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

/** The native format, `apiVersion: sloguard/v1`, `kind: SLO` (README documents every field). */
export const NativeSlo = Type.Object(
  {
    apiVersion: Type.Literal('sloguard/v1'),
    kind: Type.Literal('SLO'),
    metadata: Metadata,
    spec: Type.Object(
      {
        description: Type.Optional(Type.String()),
        indicator: Type.Object(
          {
            source: Type.Union([
              Type.Literal('loadbalancer'),
              Type.Literal('traces'),
              Type.Literal('otlp-metrics'),
              Type.Literal('prometheus'),
            ]),
            select: Type.Optional(Selector),
            good: Type.Optional(GoodCondition),
            bad: Type.Optional(BadCondition),
            exclude: Type.Optional(ExclusionsSpec),
            prometheus: Type.Optional(PromQlQueries),
          },
          { additionalProperties: false },
        ),
        objective: Objective,
        window: Window,
        budgeting: Type.Optional(Budgeting),
        minValidEvents: Type.Optional(MinValidEvents),
        ...OwnershipFields,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type NativeSlo = Static<typeof NativeSlo>;

/** `kind: CompositeSLO`: other SLOs' indicators combined by weight under one objective and window. */
export const NativeCompositeSlo = Type.Object(
  {
    apiVersion: Type.Literal('sloguard/v1'),
    kind: Type.Literal('CompositeSLO'),
    metadata: Metadata,
    spec: Type.Object(
      {
        description: Type.Optional(Type.String()),
        objective: Objective,
        window: Window,
        budgeting: Type.Optional(Type.Literal('occurrences')),
        minValidEvents: Type.Optional(MinValidEvents),
        ...OwnershipFields,
        components: Type.Array(
          Type.Object(
            {
              slo: Type.String({ pattern: RFC1123_NAME }),
              weight: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
            },
            { additionalProperties: false },
          ),
          { minItems: 1 },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type NativeCompositeSlo = Static<typeof NativeCompositeSlo>;
