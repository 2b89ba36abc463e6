import Type, { type Static } from 'typebox';

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
    status: Type.Optional(Type.String()),
    latency: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** The native format, `apiVersion: sloguard/v1`, `kind: SLO` (README documents every field). */
export const NativeSlo = Type.Object(
  {
    apiVersion: Type.Literal('sloguard/v1'),
    kind: Type.Literal('SLO'),
    metadata: Type.Object(
      {
        name: Type.String({ pattern: RFC1123_NAME }),
        service: Type.String({ minLength: 1 }),
        displayName: Type.Optional(Type.String()),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    spec: Type.Object(
      {
        description: Type.Optional(Type.String()),
        indicator: Type.Object(
          {
            source: Type.Union([Type.Literal('loadbalancer'), Type.Literal('traces')]),
            select: Type.Optional(Selector),
            good: Type.Optional(GoodCondition),
          },
          { additionalProperties: false },
        ),
        objective: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 100 }),
        window: Type.String(),
        budgeting: Type.Optional(Type.Literal('occurrences')),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type NativeSlo = Static<typeof NativeSlo>;
