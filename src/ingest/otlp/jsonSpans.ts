import { checkSpanCount, SpansRejected } from '../zipkin/span.js';
import {
  COUNT_FIRST_BYTES,
  checkAttributeCount,
  checkIdentity,
  hexId,
  nanosOfJson,
  type OtlpSpanParts,
  type OtlpSpanSink,
  STATUS_CODE_ERROR,
  zipkinKind,
} from './spans.js';

/**
 * OTLP/JSON (the protobuf JSON mapping with OTLP's exceptions): lowerCamelCase field names, trace and span ids
 * as hex, enums as numbers (their names are taken too), 64-bit integers as decimal strings or numbers.
 * Unknown fields are ignored, as the specification asks of receivers.
 */
export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A repeated field: absent or null is empty; anything but a list refuses the request (400). */
export function listAt(parent: Json, field: string, path: string): unknown[] {
  const value = parent[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new SpansRejected(`${path}.${field} must be a list`, `${path}.${field}`);
  return value;
}

/** A message field: absent or null is empty; anything but an object refuses the request (400). */
export function objectAt(value: unknown, path: string): Json {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new SpansRejected(`${path} must be an object`, path);
  return value;
}

const SCALARS = ['stringValue', 'intValue', 'boolValue', 'doubleValue'] as const;

/** Scalar attributes as string tags; array, map and bytes values are left out, as in the protobuf reader. */
export function tagsOf(attributes: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!Array.isArray(attributes)) return tags;
  for (const attribute of attributes) {
    if (!isObject(attribute) || typeof attribute.key !== 'string' || !isObject(attribute.value)) continue;
    for (const kind of SCALARS) {
      const value = attribute.value[kind];
      if (value === undefined || value === null || typeof value === 'object') continue;
      tags[attribute.key] = String(value);
      break;
    }
  }
  return tags;
}

export function serviceOf(resource: Json): string | undefined {
  if (!Array.isArray(resource.attributes)) return undefined;
  for (const attribute of resource.attributes) {
    if (isObject(attribute) && attribute.key === 'service.name' && isObject(attribute.value)) {
      const name = attribute.value.stringValue;
      return typeof name === 'string' ? name : undefined;
    }
  }
  return undefined;
}

const text = (value: unknown): string | undefined =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : undefined;

function readSpan(raw: unknown): OtlpSpanParts | string {
  if (!isObject(raw)) return 'a span must be an object';
  const traceId = text(raw.traceId);
  const spanId = text(raw.spanId);
  const parentSpanId = text(raw.parentSpanId);
  const name = text(raw.name);
  if (traceId === undefined || spanId === undefined || parentSpanId === undefined || name === undefined)
    return 'traceId, spanId, parentSpanId and name must be strings';
  const start = nanosOfJson(raw.startTimeUnixNano ?? '0');
  const end = nanosOfJson(raw.endTimeUnixNano ?? '0');
  if (!start || !end) return 'startTimeUnixNano and endTimeUnixNano must be integers of nanoseconds';
  const checked = checkIdentity({
    traceId: hexId(traceId),
    spanId: hexId(spanId),
    parentSpanId: hexId(parentSpanId),
    start,
    end,
  });
  if (typeof checked === 'string') return checked;
  const status = isObject(raw.status) ? raw.status.code : undefined;
  return {
    timestampUs: checked.timestampUs,
    durationUs: checked.durationUs,
    parentSpanId: checked.child ? parentSpanId.toLowerCase() : undefined,
    name,
    kind: zipkinKind(raw.kind),
    tags: tagsOf(raw.attributes),
    error: status === STATUS_CODE_ERROR || status === 'STATUS_CODE_ERROR',
  };
}

const OPEN_BRACE = 0x7b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** JSON objects in a body, counted by one pass over the bytes (strings skipped) before it is parsed. */
export function countJsonObjects(body: Buffer): number {
  let objects = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE) objects++;
  }
  return objects;
}

/** Reads an OTLP/JSON ExportTraceServiceRequest into `sink`; throws SpansRejected when it cannot be read. */
export function readJsonTraces(body: Buffer, sink: OtlpSpanSink): void {
  if (body.length > COUNT_FIRST_BYTES) checkAttributeCount(countJsonObjects(body), 'JSON objects');
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new SpansRejected(`body is not JSON: ${(error as Error).message}`, '$');
  }
  if (!isObject(request)) throw new SpansRejected('an ExportTraceServiceRequest must be a JSON object', '$');
  // Every list is checked and the spans counted before any span is read.
  const resources = listAt(request, 'resourceSpans', '$').map((raw, r) => {
    const path = `resourceSpans[${r}]`;
    const resourceSpans = objectAt(raw, path);
    const scopes = listAt(resourceSpans, 'scopeSpans', path).map((scope, s) =>
      listAt(objectAt(scope, `${path}.scopeSpans[${s}]`), 'spans', `${path}.scopeSpans[${s}]`),
    );
    return { service: serviceOf(objectAt(resourceSpans.resource, `${path}.resource`)), scopes };
  });
  checkSpanCount(
    resources.reduce((sum, { scopes }) => sum + scopes.reduce((n, spans) => n + spans.length, 0), 0),
  );
  resources.forEach(({ service, scopes }, r) => {
    scopes.forEach((spans, s) => {
      spans.forEach((span, k) => {
        sink.take([r, s, k], service, readSpan(span));
      });
    });
  });
}
