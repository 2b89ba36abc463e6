import type { TLocalizedValidationError } from 'typebox/error';
import { Value } from 'typebox/value';
import { formatDuration, parseDuration } from '../config/duration.js';
import { NativeSlo } from './schema.js';
import type { GoodCondition, SloDefinition } from './slo.js';
import { DefinitionError, type YamlDocument } from './yamlSource.js';

const LATENCY = /^\s*(<=|<)\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)\s*$/;
const US_PER_UNIT: Record<string, number> = { us: 1, µs: 1, ms: 1_000, s: 1_000_000 };

/** Turns a schema error into the field it names and a sentence a person can act on. */
export function describe(error: TLocalizedValidationError): { path: string[]; atKey: boolean; reason: string } {
  const path = error.instancePath.split('/').slice(1);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const extra = (params.additionalProperties as string[])[0]!;
    return { path: [...path, extra], atKey: true, reason: `unknown field "${extra}"` };
  }
  if (error.keyword === 'required') {
    const missing = (params.requiredProperties as string[] | undefined)?.[0];
    return { path, atKey: true, reason: missing ? `missing required field "${missing}"` : error.message };
  }
  if (error.keyword === 'const')
    return { path, atKey: false, reason: `must be "${String(params.allowedValue)}"` };
  if (error.keyword === 'pattern' && path.at(-1) === 'name') {
    return {
      path,
      atKey: false,
      reason: 'must be an RFC-1123 name: lower-case letters, digits and "-", at most 63',
    };
  }
  return { path, atKey: false, reason: error.message };
}

function parseGood(
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

/**
 * Of all schema errors, the one a person should fix first: an unknown field (usually a typo, which also
 * makes the intended field "missing"), then the deepest path, which is the most specific.
 */
export function mostUseful(errors: TLocalizedValidationError[]): TLocalizedValidationError | undefined {
  const rank = (e: TLocalizedValidationError) =>
    (e.keyword === 'additionalProperties' ? 1000 : 0) +
    e.instancePath.split('/').length -
    (e.keyword === 'boolean' ? 2000 : 0);
  return errors.reduce<TLocalizedValidationError | undefined>(
    (best, e) => (!best || rank(e) > rank(best) ? e : best),
    undefined,
  );
}

/** Validates one `apiVersion: sloguard/v1` document into an SloDefinition, or throws the first problem. */
export function readNativeSlo(document: YamlDocument): SloDefinition {
  const error = mostUseful(Value.Errors(NativeSlo, document.value));
  if (error) {
    const { path, atKey, reason } = describe(error);
    throw new DefinitionError(document.locate(path, atKey), path.join('.'), reason);
  }
  const slo = document.value as NativeSlo;
  const fail = (field: string, reason: string): never => {
    throw new DefinitionError(document.locate(field.split('.')), field, reason);
  };
  const windowMs = parseDuration(slo.spec.window);
  if (windowMs === undefined)
    fail('spec.window', `expected a duration like 28d or 4w, got "${slo.spec.window}"`);
  const good = parseGood(slo.spec.indicator.good, fail);
  const method = slo.spec.indicator.select?.method?.toUpperCase();
  const route = slo.spec.indicator.select?.route;
  const spanKinds = slo.spec.indicator.select?.spanKinds;
  if (spanKinds !== undefined && slo.spec.indicator.source !== 'traces')
    fail('spec.indicator.select.spanKinds', 'applies only to source: traces');
  return {
    name: slo.metadata.name,
    service: slo.metadata.service,
    ...(slo.metadata.displayName !== undefined && { displayName: slo.metadata.displayName }),
    ...(slo.spec.description !== undefined && { description: slo.spec.description }),
    labels: slo.metadata.labels ?? {},
    indicator: {
      source: slo.spec.indicator.source,
      select: {
        ...(route !== undefined && { route }),
        ...(method !== undefined && { method }),
        ...(spanKinds !== undefined && { spanKinds }),
      },
      good,
    },
    objective: slo.spec.objective / 100,
    objectivePercent: slo.spec.objective,
    windowMs: windowMs!,
    window: formatDuration(windowMs!),
    budgeting: 'occurrences',
    location: document.locate([]),
  };
}
