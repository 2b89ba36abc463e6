import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parseDuration } from '../config/duration.js';
import { describe as describeSchemaError, mostUseful as mostUsefulError } from '../config/schemaErrors.js';
import type { ChangeFreeze } from '../model/gate.js';
import type { SourceLocation } from '../model/location.js';
import type { SloDefinition } from '../model/slo.js';
import { OwnershipFields, RFC1123_NAME } from './schema.js';
import { readTimeWindow, TimeWindowError, TimeWindowSchema } from './timeWindows.js';
import { DefinitionError, type YamlDocument } from './yamlSource.js';

/** The longest failure window a policy may set: DORA's change failures show within hours, not weeks. */
const MAX_FAILURE_WINDOW_MS = 7 * 86_400_000;

/** Fields with a fixed set of values, named in full when a file spells one wrong. */
const CHOICES: Record<string, readonly string[]> = {
  mode: ['enforce', 'observe'],
  onNoData: ['deny', 'allow', 'warn'],
  onInsufficientData: ['deny', 'allow', 'warn'],
};
type Verdict = Type.TUnion<[Type.TLiteral<'deny'>, Type.TLiteral<'allow'>, Type.TLiteral<'warn'>]>;
const choice = (field: string) => Type.Union(CHOICES[field]!.map((value) => Type.Literal(value)));

const PolicySettings = {
  warnBelow: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  recoveryMargin: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  mode: Type.Optional(choice('mode') as Type.TUnion<[Type.TLiteral<'enforce'>, Type.TLiteral<'observe'>]>),
  onNoData: Type.Optional(choice('onNoData') as Verdict),
  onInsufficientData: Type.Optional(choice('onInsufficientData') as Verdict),
  minValidEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
  denyOnPageAlert: Type.Optional(Type.Boolean()),
  exemptions: Type.Optional(
    Type.Object(
      { hotfix: Type.Optional(Type.Boolean()), config: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
  ),
  /** Calendar change freezes ("no feature deploys 20 Dec – 3 Jan"): the gate denies in them, exemptions aside. */
  changeFreezes: Type.Optional(
    Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: RFC1123_NAME }),
          reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
          window: TimeWindowSchema,
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
  ),
};

/** `kind: GatePolicy`: how the gate treats one service, with settings per environment (README documents it). */
export const GatePolicyDocument = Type.Object(
  {
    apiVersion: Type.Literal('sloguard/v1'),
    kind: Type.Literal('GatePolicy'),
    metadata: Type.Object(
      {
        name: Type.String({ pattern: RFC1123_NAME }),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    spec: Type.Object(
      {
        service: Type.String({ minLength: 1 }),
        slos: Type.Optional(
          Type.Union([Type.Literal('all'), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
        ),
        ...PolicySettings,
        ...OwnershipFields,
        /** The incident policy of the service (docs/incidents.md). */
        incidents: Type.Optional(
          Type.Object(
            {
              postmortemBudget: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
              failureWindow: Type.Optional(Type.String({ maxLength: 16 })),
            },
            { additionalProperties: false },
          ),
        ),
        environments: Type.Optional(
          Type.Record(
            Type.String({ minLength: 1 }),
            Type.Object(PolicySettings, { additionalProperties: false }),
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
type GatePolicyDocument = Static<typeof GatePolicyDocument>;
/** The settings of a policy's defaults or of one environment, change freezes read. */
export type GatePolicySettings = Omit<
  Partial<Pick<GatePolicyDocument['spec'], keyof typeof PolicySettings>>,
  'changeFreezes'
> & {
  changeFreezes?: ChangeFreeze[];
};

export interface GatePolicy {
  name: string;
  service: string;
  slos: 'all' | string[];
  defaults: GatePolicySettings;
  environments: Record<string, GatePolicySettings>;
  /** The service's runbook and owner: the default of its SLOs that name none. */
  runbook?: string;
  owner?: string;
  /** Share of the budget (0..1) an incident spends that calls for a postmortem; unset: the default. */
  postmortemThreshold?: number;
  /** How soon after a deployment an incident counts it as failed; unset: the default. */
  failureWindowMs?: number;
  location: SourceLocation;
  /** Where `spec.service` and `spec.slos` are, for cross-file errors. */
  fields: { service: SourceLocation; slos: SourceLocation };
}

/** Validates one `kind: GatePolicy` document, or throws its first problem with file:line:column. */
export function readGatePolicy(document: YamlDocument): GatePolicy {
  const error = mostUsefulError(Value.Errors(GatePolicyDocument, document.value));
  if (error) {
    const { path, atKey, reason } = describeSchemaError(error);
    const choices = CHOICES[path.at(-1) ?? ''];
    const why = choices && !atKey ? `must be one of ${choices.join(', ')}` : reason;
    throw new DefinitionError(document.locate(path, atKey), path.join('.'), why);
  }
  const { metadata, spec } = document.value as GatePolicyDocument;
  const { service, slos, environments, runbook, owner, incidents, ...defaults } = spec;
  const failureWindow = incidents?.failureWindow;
  const failureWindowMs = failureWindow === undefined ? undefined : parseDuration(failureWindow);
  if (
    failureWindow !== undefined &&
    (failureWindowMs === undefined || failureWindowMs > MAX_FAILURE_WINDOW_MS)
  ) {
    const path = ['spec', 'incidents', 'failureWindow'];
    throw new DefinitionError(
      document.locate(path),
      path.join('.'),
      `expected a duration up to 7d, got "${failureWindow}"`,
    );
  }
  const settings = (raw: typeof defaults, at: string[]): GatePolicySettings => {
    const { changeFreezes, ...rest } = raw;
    if (!changeFreezes) return rest;
    return {
      ...rest,
      changeFreezes: changeFreezes.map(({ window, ...freeze }, index) => {
        try {
          return { ...freeze, window: readTimeWindow(window) };
        } catch (error) {
          if (!(error instanceof TimeWindowError)) throw error;
          const path = [...at, 'changeFreezes', index, 'window', error.field];
          throw new DefinitionError(document.locate(path), path.join('.'), error.reason);
        }
      }),
    };
  };
  return {
    name: metadata.name,
    service,
    slos: slos ?? 'all',
    defaults: settings(defaults, ['spec']),
    environments: Object.fromEntries(
      Object.entries(environments ?? {}).map(([name, raw]) => [
        name,
        settings(raw, ['spec', 'environments', name]),
      ]),
    ),
    ...(runbook !== undefined && { runbook }),
    ...(owner !== undefined && { owner }),
    ...(incidents?.postmortemBudget !== undefined && {
      postmortemThreshold: incidents.postmortemBudget / 100,
    }),
    ...(failureWindowMs !== undefined && { failureWindowMs }),
    location: document.locate([]),
    fields: { service: document.locate(['spec', 'service']), slos: document.locate(['spec', 'slos']) },
  };
}

/** Cross-file checks: one policy per service, and listed SLOs exist and belong to that service. */
export function checkPolicies(policies: readonly GatePolicy[], definitions: readonly SloDefinition[]) {
  const errors: DefinitionError[] = [];
  const byService = new Map<string, GatePolicy>();
  const slos = new Map(definitions.map((d) => [d.name, d]));
  const valid: GatePolicy[] = [];
  for (const policy of policies) {
    const previous = byService.get(policy.service);
    if (previous) {
      errors.push(
        new DefinitionError(
          policy.fields.service,
          'spec.service',
          `service "${policy.service}" already has GatePolicy "${previous.name}" (${previous.location.file}:${previous.location.line})`,
        ),
      );
      continue;
    }
    const wrong =
      policy.slos === 'all' ? [] : policy.slos.filter((n) => slos.get(n)?.service !== policy.service);
    if (wrong.length > 0) {
      errors.push(
        new DefinitionError(
          policy.fields.slos,
          'spec.slos',
          `${wrong.map((n) => `"${n}"`).join(', ')} ${wrong.length === 1 ? 'is not an SLO' : 'are not SLOs'} of service "${policy.service}"`,
        ),
      );
      continue;
    }
    byService.set(policy.service, policy);
    valid.push(policy);
  }
  return { policies: valid, errors };
}

/** SLOs that name no runbook or owner take their service's, from its GatePolicy. */
export function withServiceOwnership(
  definitions: readonly SloDefinition[],
  policies: readonly GatePolicy[],
): SloDefinition[] {
  const byService = new Map(policies.map((p) => [p.service, p]));
  return definitions.map((definition) => {
    const policy = byService.get(definition.service);
    const runbook = definition.runbook ?? policy?.runbook;
    const owner = definition.owner ?? policy?.owner;
    if (runbook === definition.runbook && owner === definition.owner) return definition;
    return {
      ...definition,
      ...(runbook !== undefined && { runbook }),
      ...(owner !== undefined && { owner }),
    };
  });
}
