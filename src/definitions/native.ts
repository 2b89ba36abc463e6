import { parseDuration } from '../config/duration.js';
import type { EventRules, Exclusion } from '../model/eventRules.js';
import type { SourceLocation } from '../model/location.js';
import type { GoodCondition, SloDefinition, WindowSpec } from '../model/slo.js';
import {
  complement,
  DEFAULT_RULES,
  type ExclusionSpec,
  isDefaultRules,
  RuleError,
  ruleId,
  type StatusSpec,
  statusRanges,
} from './eventRules.js';
import { readPrometheusIndicator } from './promqlSource.js';
import { NativeCompositeSlo, NativeSlo } from './schema.js';
import { check, type Fail, failer } from './schemaCheck.js';
import { describeWindow, isTimeZone, nominalWindowMs } from './window.js';
import { DefinitionError, type YamlDocument } from './yamlSource.js';

const LATENCY = /^\s*(<=|<)\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)\s*$/;
const US_PER_UNIT: Record<string, number> = { us: 1, µs: 1, ms: 1_000, s: 1_000_000 };

export function parseGood(
  good: { status?: string; latency?: string } | undefined,
  fail: (field: string, reason: string) => never,
): GoodCondition {
  if (good?.status !== undefined && good.latency !== undefined) {
    fail('spec.indicator.good', 'give either status or latency, not both');
  }
  if (good?.latency !== undefined) {
    const match = LATENCY.exec(good.latency);
    if (!match)
      fail('spec.indicator.good.latency', `expected "<= 500ms" (units us, ms, s), got "${good.latency}"`);
    const thresholdUs = Math.round(Number(match[2]) * US_PER_UNIT[match[3]!]!) - (match[1] === '<' ? 1 : 0);
    if (thresholdUs < 1) fail('spec.indicator.good.latency', 'threshold must be positive');
    return { kind: 'latency', thresholdUs, text: good.latency.trim() };
  }
  if (good?.status !== undefined && good.status.replace(/\s+/g, '') !== '<500') {
    fail('spec.indicator.good.status', `only "< 500" is supported (5xx are failures), got "${good.status}"`);
  }
  return { kind: 'availability' };
}

function readWindow(window: NativeSlo['spec']['window'], fail: Fail): WindowSpec {
  if (typeof window === 'string') {
    const ms = parseDuration(window);
    if (ms === undefined) fail('spec.window', `expected a duration like 28d or 4w, got "${window}"`);
    return { kind: 'rolling', ms: ms! };
  }
  const timeZone = window.timeZone ?? 'UTC';
  if (!isTimeZone(timeZone)) fail('spec.window.timeZone', `unknown IANA time zone "${timeZone}"`);
  return { kind: 'calendar', unit: window.calendar, count: 1, timeZone };
}

function readBudgeting(
  budgeting: NativeSlo['spec']['budgeting'],
  fail: Fail,
): Pick<SloDefinition, 'budgeting' | 'timeslices'> {
  if (budgeting === undefined || budgeting === 'occurrences') return { budgeting: 'occurrences' };
  const slice = 'timeslices' in budgeting ? budgeting.timeslices.slice : budgeting.ratioTimeslices.slice;
  const field = `spec.budgeting.${'timeslices' in budgeting ? 'timeslices' : 'ratioTimeslices'}.slice`;
  const sliceMs = parseDuration(slice);
  if (sliceMs === undefined || sliceMs % 60_000 !== 0)
    fail(field, `expected whole minutes like 1m or 5m, got "${slice}"`);
  if ('timeslices' in budgeting)
    return {
      budgeting: 'timeslices',
      timeslices: { sliceMs: sliceMs!, target: budgeting.timeslices.target / 100 },
    };
  return { budgeting: 'ratio-timeslices', timeslices: { sliceMs: sliceMs! } };
}

/** The fields SLOs and composites share: names, objective, window. */
function common(
  metadata: NativeSlo['metadata'],
  spec: {
    description?: string;
    objective: number;
    window: NativeSlo['spec']['window'];
    minValidEvents?: number;
    runbook?: string;
    owner?: string;
  },
  document: YamlDocument,
  fail: Fail,
) {
  const windowSpec = readWindow(spec.window, fail);
  return {
    name: metadata.name,
    service: metadata.service,
    ...(metadata.displayName !== undefined && { displayName: metadata.displayName }),
    ...(spec.description !== undefined && { description: spec.description }),
    labels: metadata.labels ?? {},
    objective: spec.objective / 100,
    objectivePercent: spec.objective,
    ...(spec.minValidEvents !== undefined && { minValidEvents: spec.minValidEvents }),
    ...(spec.runbook !== undefined && { runbook: spec.runbook }),
    ...(spec.owner !== undefined && { owner: spec.owner }),
    windowMs: nominalWindowMs(windowSpec),
    window: describeWindow(windowSpec),
    windowSpec,
    format: 'native' as const,
    location: document.locate([]),
    nameLocation: document.locate(['metadata', 'name']),
    fieldLocations: {
      objective: document.locate(['spec', 'objective']),
      window: document.locate(['spec', 'window']),
      budgeting: document.locate(['spec', 'budgeting']),
    },
  };
}

type NativeIndicator = NativeSlo['spec']['indicator'];
const AVAILABILITY: GoodCondition = { kind: 'availability' };

function ranges(spec: StatusSpec, field: string, fail: Fail) {
  try {
    return statusRanges(spec);
  } catch (error) {
    if (error instanceof RuleError) fail(field, error.message);
    throw error;
  }
}

function readExclusion(spec: ExclusionSpec, field: string, fail: Fail): Exclusion {
  return {
    ...(spec.route !== undefined && { route: spec.route }),
    ...(spec.method !== undefined && { method: spec.method.toUpperCase() }),
    ...(spec.userAgent !== undefined && { userAgent: spec.userAgent }),
    ...(spec.status !== undefined && { status: ranges(spec.status, `${field}.status`, fail) }),
  };
}

/** The good condition, and the status rules and exclusions when they differ from the seed's (docs/slo-definitions.md). */
function readGoodAndRules(
  indicator: NativeIndicator,
  fail: Fail,
): { good: GoodCondition; rules?: EventRules & { id: number } } {
  const { good, bad, exclude, source } = indicator;
  const status = good?.status;
  if (status !== undefined && good?.latency !== undefined)
    fail('spec.indicator.good', 'give either status or latency, not both');
  if (status !== undefined && bad) fail('spec.indicator.bad', 'give good.status or bad.status, not both');
  if (good?.latency !== undefined) {
    if (bad || exclude)
      fail(
        bad ? 'spec.indicator.bad' : 'spec.indicator.exclude',
        'status rules and exclusions apply to availability indicators, not latency',
      );
    return { good: parseGood({ latency: good.latency }, fail) };
  }
  if (status === undefined && !bad && !exclude) return { good: AVAILABILITY };
  const rules: EventRules = {
    bad:
      status !== undefined
        ? complement(ranges(status, 'spec.indicator.good.status', fail))
        : bad
          ? ranges(bad.status, 'spec.indicator.bad.status', fail)
          : DEFAULT_RULES.bad,
    exclude: (exclude ?? []).map((e, i) => readExclusion(e, `spec.indicator.exclude.${i}`, fail)),
  };
  if (isDefaultRules(rules)) return { good: AVAILABILITY };
  if (source === 'prometheus')
    fail(
      'spec.indicator',
      'status rules and exclusions need source loadbalancer or traces; PromQL says good and bad itself',
    );
  return { good: AVAILABILITY, rules: { ...rules, id: ruleId(rules) } };
}

/** Validates one `apiVersion: sloguard/v1`, `kind: SLO` document into an SloDefinition, or throws the first problem. */
export function readNativeSlo(document: YamlDocument): SloDefinition {
  const slo = check<NativeSlo>(NativeSlo, document);
  const fail = failer(document);
  const { good, rules } = readGoodAndRules(slo.spec.indicator, fail);
  const method = slo.spec.indicator.select?.method?.toUpperCase();
  const route = slo.spec.indicator.select?.route;
  const spanKinds = slo.spec.indicator.select?.spanKinds;
  if (spanKinds !== undefined && slo.spec.indicator.source !== 'traces')
    fail('spec.indicator.select.spanKinds', 'applies only to source: traces');
  const prometheus = readPrometheusIndicator(slo.spec.indicator, fail);
  return {
    ...common(slo.metadata, slo.spec, document, fail),
    indicator: {
      source: slo.spec.indicator.source,
      select: {
        ...(route !== undefined && { route }),
        ...(method !== undefined && { method }),
        ...(spanKinds !== undefined && { spanKinds }),
      },
      good,
      ...(rules && { rules }),
      ...(prometheus && { prometheus }),
    },
    ...readBudgeting(slo.spec.budgeting, fail),
  };
}

/** A composite read from its file; its components name SLOs that may be defined in any file. */
export interface PendingComposite {
  definition: Omit<SloDefinition, 'indicator' | 'composite'>;
  components: Array<{ slo: string; weight: number; location: SourceLocation }>;
}

export function readNativeComposite(document: YamlDocument): PendingComposite {
  const composite = check<NativeCompositeSlo>(NativeCompositeSlo, document);
  const fail = failer(document);
  return {
    definition: { ...common(composite.metadata, composite.spec, document, fail), budgeting: 'occurrences' },
    components: composite.spec.components.map((component, index) => ({
      slo: component.slo,
      weight: component.weight ?? 1,
      location: document.locate(['spec', 'components', index, 'slo']),
    })),
  };
}

/**
 * Turns composites into SloDefinitions once every SLO is known. Each component's error rate counts with
 * weight ÷ total weight against the composite's objective, so the composite SLI is the weighted mean of the
 * component SLIs (the seed's "Browse").
 */
export function resolveComposite(
  pending: PendingComposite,
  byName: ReadonlyMap<string, SloDefinition>,
): SloDefinition {
  const totalWeight = pending.components.reduce((sum, c) => sum + c.weight, 0);
  const components = pending.components.map((component, index) => {
    const slo = byName.get(component.slo);
    const field = `spec.components.${index}.slo`;
    if (!slo) throw new DefinitionError(component.location, field, `no SLO named "${component.slo}"`);
    if (slo.composite)
      throw new DefinitionError(component.location, field, `"${component.slo}" is itself a composite`);
    return {
      name: slo.name,
      // The component's series are its own service's, not the composite's (a composite may span services).
      indicator: {
        ...slo.indicator,
        select: { ...slo.indicator.select, service: slo.indicator.select.service ?? slo.service },
      },
      weight: component.weight / totalWeight,
      objective: pending.definition.objective,
    };
  });
  return { ...pending.definition, indicator: components[0]!.indicator, composite: { components } };
}
