import Type, { type Static } from 'typebox';
import type { Indicator, SloDefinition } from '../model/slo.js';

/**
 * Links out from an SLO to its traces and logs: URL templates per service and by default, and the Zipkin UI
 * search that trace SLOs get when no template is set. Templates are checked at start; values are URL-encoded.
 */

const Template = Type.String({ minLength: 1, maxLength: 2000 });
const Templates = Type.Object(
  { traces: Type.Optional(Template), logs: Type.Optional(Template) },
  { additionalProperties: false },
);

/** `links:` in sloguard.yaml. */
export const LinksFile = Type.Object(
  {
    /** The Zipkin UI (its `/zipkin/` page); "" turns the default trace link of trace SLOs off. */
    zipkin: Type.Optional(Type.String({ maxLength: 2000 })),
    traces: Type.Optional(Template),
    logs: Type.Optional(Template),
    services: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Templates)),
  },
  { additionalProperties: false },
);
type LinksFile = Static<typeof LinksFile>;

export interface LinkTemplates {
  traces?: string;
  logs?: string;
}

export interface LinkSettings extends LinkTemplates {
  /** Base URL of the Zipkin UI; absent: no default trace link. */
  zipkin?: string;
  services: Record<string, LinkTemplates>;
}

/** What a link is filled with: the SLO, its service, the range, and the series when a row is linked. */
export interface LinkContext {
  slo: string;
  service: string;
  fromMs: number;
  toMs: number;
  route?: string;
  method?: string;
  /** The statuses that make events bad (`5xx` for availability), empty for latency. */
  status: string;
}

const PLACEHOLDERS: Record<string, (c: LinkContext) => string> = {
  slo: (c) => c.slo,
  service: (c) => c.service,
  route: (c) => c.route ?? '',
  method: (c) => c.method ?? '',
  status: (c) => c.status,
  from_ms: (c) => String(c.fromMs),
  to_ms: (c) => String(c.toMs),
  from_s: (c) => String(Math.floor(c.fromMs / 1000)),
  to_s: (c) => String(Math.ceil(c.toMs / 1000)),
  from: (c) => new Date(c.fromMs).toISOString(),
  to: (c) => new Date(c.toMs).toISOString(),
};
const PLACEHOLDER = /\{([a-z_]{1,16})\}/g;

/** Why a template cannot be used, or undefined: an http(s) URL (or a path) naming only known placeholders. */
function templateProblem(template: string): string | undefined {
  if (!/^(https?:\/\/[^/{]|\/)/.test(template))
    return `expected an http(s) URL or a path starting with /, got "${template.slice(0, 80)}"`;
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!Object.hasOwn(PLACEHOLDERS, name!))
      return `unknown placeholder {${name}}; known: ${Object.keys(PLACEHOLDERS)
        .map((key) => `{${key}}`)
        .join(', ')}`;
  }
  return undefined;
}

export function resolveLinks(
  file: LinksFile | undefined,
  fail: (field: string, message: string) => never,
): LinkSettings {
  const check = (field: string, template: string | undefined) => {
    const problem = template === undefined ? undefined : templateProblem(template);
    if (problem) fail(field, problem);
  };
  check('links.traces', file?.traces);
  check('links.logs', file?.logs);
  for (const [service, templates] of Object.entries(file?.services ?? {})) {
    check(`links.services.${service}.traces`, templates.traces);
    check(`links.services.${service}.logs`, templates.logs);
  }
  const zipkin = file?.zipkin ?? '/zipkin/';
  if (zipkin !== '' && !/^(https?:\/\/[^/]|\/)/.test(zipkin))
    fail('links.zipkin', `expected an http(s) URL or a path starting with /, got "${zipkin.slice(0, 80)}"`);
  return {
    ...(file?.traces && { traces: file.traces }),
    ...(file?.logs && { logs: file.logs }),
    ...(zipkin && { zipkin }),
    // Looked up by service name: without a prototype, `constructor` names no service.
    services: Object.assign(Object.create(null), file?.services),
  };
}

/** A template with each placeholder replaced by its URL-encoded value. */
export function fillTemplate(template: string, context: LinkContext): string {
  return template.replace(PLACEHOLDER, (_, name: string) => encodeURIComponent(PLACEHOLDERS[name]!(context)));
}

/**
 * The Zipkin UI's search for the failing spans of a range, with the parameters zipkin-lens reads from its URL
 * (DiscoverPageContent.tsx): `lookback=range` with `startTs` and `endTs` in ms, and `limit` (without both it
 * searches nothing). Zipkin matches tags exactly or by presence, so "a 5xx" is asked as spans carrying a status
 * tag and the `error` tag (which Brave and OpenTelemetry's Zipkin exporter set on failed server spans); a
 * latency SLO asks for spans slower than its threshold (`minDuration`, µs).
 */
export function zipkinSearch(
  base: string,
  context: LinkContext,
  spanName: string | undefined,
  minDurationUs?: number,
): string {
  const query = new URLSearchParams({ serviceName: context.service });
  if (spanName) query.set('spanName', spanName.toLowerCase());
  if (minDurationUs !== undefined) query.set('minDuration', String(minDurationUs));
  else query.set('annotationQuery', 'http.status_code and error');
  query.set('lookback', 'range');
  query.set('startTs', String(context.fromMs));
  query.set('endTs', String(context.toMs));
  query.set('limit', '100');
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

export interface SloLinks {
  traces: string | null;
  logs: string | null;
}

/**
 * An SLO's links over a range (or one of its series' when `series` is given): the service's templates, else
 * the default ones, else for trace SLOs the Zipkin search. `indicator` is a composite's component.
 */
export function sloLinks(
  settings: LinkSettings,
  definition: SloDefinition,
  range: { fromMs: number; toMs: number },
  indicator: Indicator = definition.indicator,
  series?: { operation: string; method: string },
): SloLinks {
  const service = indicator.select.service ?? definition.service;
  const { good, select } = indicator;
  const route = series?.operation ?? select.route;
  const method = series?.method ?? select.method;
  const context: LinkContext = {
    slo: definition.name,
    service,
    ...range,
    ...(route !== undefined && { route }),
    ...(method !== undefined && { method }),
    status: good.kind === 'availability' ? '5xx' : '',
  };
  const own = settings.services[service];
  const template = (kind: keyof LinkTemplates) => {
    const chosen = own?.[kind] ?? settings[kind];
    return chosen === undefined ? null : fillTemplate(chosen, context);
  };
  const zipkin =
    indicator.source === 'traces' && settings.zipkin
      ? zipkinSearch(
          settings.zipkin,
          context,
          route !== undefined && method !== undefined ? `${method} ${route}` : undefined,
          good.kind === 'latency' ? good.thresholdUs : undefined,
        )
      : null;
  return { traces: template('traces') ?? zipkin, logs: template('logs') };
}
