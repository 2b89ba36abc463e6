import { isServerError, type Observation } from '../../model/observation.js';
import type { BatchAggregate } from '../aggregate.js';
import { LabelRejected } from '../labels.js';
import type { ServiceRoutes } from '../routeTemplates.js';
import { TIME_OUT_OF_RANGE, TimeOutOfRange } from '../timeRange.js';
import { SpansRejected, type ZipkinSpan } from './span.js';

/**
 * What a span stands for, stored as the series' `source` so SLOs can pick kinds (`select.spanKinds`,
 * default server). A root span without a kind is the entry point of a trace, so it counts as a server.
 */
export type SpanRole = 'server' | 'client' | 'producer' | 'consumer';

const ROLE_OF_KIND = {
  SERVER: 'server',
  CLIENT: 'client',
  PRODUCER: 'producer',
  CONSUMER: 'consumer',
} as const;

/** Attribute names of Zipkin/Brave and of OpenTelemetry's old and stable HTTP conventions. */
const PATH_TAGS = ['http.path', 'http.target', 'url.path'] as const;
/** Where no method or name is known (RPC, messaging), the series says so rather than guess. */
const UNKNOWN = '-';

const HTTP_METHODS = new Set([
  'get',
  'head',
  'post',
  'put',
  'delete',
  'patch',
  'options',
  'trace',
  'connect',
]);

/**
 * The http.method tag, else the span name's first word when it is a method: zipkin-js, Brave and
 * OpenTelemetry name HTTP spans `get` or `GET /route`, and zipkin-js tags no method.
 */
function methodOf(span: ZipkinSpan): string {
  const method = span.tags['http.method'] ?? span.tags['http.request.method'];
  if (method) return method.toUpperCase();
  const name = span.name;
  if (name === undefined) return UNKNOWN;
  const space = name.indexOf(' ');
  const first = space === -1 ? name : name.slice(0, space);
  return HTTP_METHODS.has(first) ? first.toUpperCase() : UNKNOWN;
}

function roleOf(span: ZipkinSpan): SpanRole | undefined {
  if (span.kind !== undefined) return ROLE_OF_KIND[span.kind];
  return span.parentId === undefined ? 'server' : undefined;
}

function statusOf(tags: Record<string, string>): number | undefined {
  const text = tags['http.status_code'] ?? tags['http.response.status_code'];
  if (text === undefined) return undefined;
  const status = Number(text);
  return Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined;
}

function operationOf(span: ZipkinSpan, service: string, routes: ServiceRoutes): string {
  const route = span.tags['http.route'];
  if (route) return route;
  for (const name of PATH_TAGS) {
    const path = span.tags[name];
    if (path) return routes.route(service, path);
  }
  return span.name ?? UNKNOWN;
}

/**
 * The request a span records, or undefined when it is not one: local (in-process) child spans, spans
 * without `localEndpoint.serviceName` (no service to charge) and spans without a start time.
 * A status tag decides when present (≥ 500 bad; Brave's `error` tag on a 4xx does not override it);
 * otherwise an `error` tag of any value, or `otel.status_code=ERROR`, marks the span bad.
 */
export function spanObservation(span: ZipkinSpan, routes: ServiceRoutes): Observation | undefined {
  const role = roleOf(span);
  const service = span.serviceName;
  if (role === undefined || service === undefined || span.timestampUs === undefined) return undefined;
  const { tags } = span;
  const status = statusOf(tags);
  const observation: Observation = {
    timeMs: Math.floor(span.timestampUs / 1000),
    kind: 'traces',
    source: role,
    service,
    operation: operationOf(span, service, routes),
    method: methodOf(span),
    error:
      status !== undefined ? isServerError(status) : 'error' in tags || tags['otel.status_code'] === 'ERROR',
  };
  if (status !== undefined) observation.status = status;
  if (span.durationUs !== undefined) observation.durationUs = span.durationUs;
  const userAgent = tags['user_agent.original'] ?? tags['http.user_agent'];
  if (userAgent !== undefined) observation.userAgent = userAgent;
  return observation;
}

export interface SpanSummary {
  /** Spans in the batch, all valid. */
  received: number;
  /** Spans that became observations (see spanObservation for the others). */
  counted: number;
}

/**
 * Adds the spans that record requests to the batch. A span whose start lies outside the accepted times, or
 * whose service or operation name holds NUL, a control character or broken UTF-8, refuses the whole batch,
 * naming the span (Zipkin's contract: a batch is accepted or refused whole).
 */
export function observeSpans(spans: ZipkinSpan[], routes: ServiceRoutes, batch: BatchAggregate): SpanSummary {
  let counted = 0;
  for (const [index, span] of spans.entries()) {
    const observation = spanObservation(span, routes);
    if (observation === undefined) continue;
    try {
      batch.add(observation);
    } catch (error) {
      if (error instanceof TimeOutOfRange) {
        throw new SpansRejected(
          `span $[${index}]: ${error.message}`,
          `$[${index}].timestamp`,
          400,
          TIME_OUT_OF_RANGE,
        );
      }
      if (!(error instanceof LabelRejected)) throw error;
      throw new SpansRejected(`span $[${index}]: ${error.message}`, `$[${index}]`);
    }
    counted += 1;
  }
  return { received: spans.length, counted };
}
