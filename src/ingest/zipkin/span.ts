/**
 * Zipkin v2 spans as the collector reads them, with Zipkin's own validation and normalisation
 * (zipkin2.Span.Builder, V2SpanReader): lower-hex ids padded to 16 or 32, names lower-cased, negative or
 * zero times absent, a parent equal to the id dropped. One pass, no schema library: this runs per span.
 */
export type SpanKind = 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';

export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: SpanKind;
  name?: string;
  /** Epoch microseconds of the start. */
  timestampUs?: number;
  durationUs?: number;
  /** `localEndpoint.serviceName`, lower-cased as Zipkin does. */
  serviceName?: string;
  tags: Record<string, string>;
}

/** Why a batch is refused: Zipkin's validation, a span time outside the accepted range (timeRange.ts), a batch
 * too big to take (too many spans, or for OTLP too many attributes or JSON objects), or gzip that does not
 * inflate. */
export type SpansRejectedCode =
  | 'invalid_spans'
  | 'time_out_of_range'
  | 'too_many_spans'
  | 'too_many_values'
  | 'body_too_large'
  | 'invalid_gzip';

/**
 * The whole batch is refused, as Zipkin refuses it: `path` is the JSON path of the bad value. `status` and
 * `code` are the HTTP answer (400 invalid_spans, unless the batch is too big or its gzip is bad).
 */
export class SpansRejected extends Error {
  override name = 'SpansRejected';
  constructor(
    message: string,
    readonly path: string,
    readonly status = 400,
    readonly code: SpansRejectedCode = 'invalid_spans',
  ) {
    super(message);
  }
}

/**
 * Spans per request body at most. Zipkin and OpenTelemetry reporters send a few hundred to a few thousand per
 * message; the cap bounds the memory one body's parsed spans take (1M spans took over 1 GB).
 */
export const MAX_SPANS_PER_BATCH = 50_000;

/** Refuses a body with more than MAX_SPANS_PER_BATCH spans, before any of them is parsed. */
export function checkSpanCount(count: number): void {
  if (count > MAX_SPANS_PER_BATCH) {
    throw new SpansRejected(
      `${count} spans in one request; at most ${MAX_SPANS_PER_BATCH} are accepted: split the list into requests of ${MAX_SPANS_PER_BATCH} spans or fewer`,
      '$',
      413,
      'too_many_spans',
    );
  }
}

const KINDS = new Set<string>(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']);
const LOWER_HEX = /^[0-9a-f]+$/;
/** Lower-hex text that is not all zeros holds one of these. */
const NON_ZERO = /[1-9a-f]/;
const INTEGER_TEXT = /^-?\d+$/;

type Json = Record<string, unknown>;

/** Gson's names for JSON token types, which Zipkin's messages quote. */
function tokenOf(value: unknown): string {
  if (value === null) return 'NULL';
  if (Array.isArray(value)) return 'BEGIN_ARRAY';
  switch (typeof value) {
    case 'boolean':
      return 'BOOLEAN';
    case 'number':
      return 'NUMBER';
    case 'string':
      return 'STRING';
    default:
      return 'BEGIN_OBJECT';
  }
}

/** What Gson's nextLong takes: an integral number, or the text of one. */
function isLong(value: unknown): boolean {
  return (
    (typeof value === 'number' && Number.isInteger(value)) ||
    (typeof value === 'string' && INTEGER_TEXT.test(value))
  );
}

/** What Gson's nextString takes: a string, or a number read as its text. */
function isText(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number';
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads one list of raw spans (parsed JSON, or proto3 turned into the same shape). Field paths for messages
 * are built only when a span is refused: valid spans allocate nothing but themselves.
 */
export class SpanReader {
  /** Index of the span being read, for the `$[i].field` path of a refusal. */
  private index = 0;

  /** `format` names the encoding in messages: "json" or "proto3", as Zipkin's codecs do. */
  constructor(private readonly format: 'json' | 'proto3') {}

  private path(field: string | undefined): string {
    return field === undefined ? `$[${this.index}]` : `$[${this.index}].${field}`;
  }

  private fail(cause: string, field?: string): never {
    throw new SpansRejected(`${cause} reading List<Span> from ${this.format}`, this.path(field));
  }

  /** Zipkin's "Expected a X but was Y at path P", where Y is a Gson token name or the value. */
  private expected(type: string, shown: string, field: string): never {
    return this.fail(`Expected a ${type} but was ${shown} at path ${this.path(field)}`, field);
  }

  /** `Malformed`, Zipkin's word for a value of the wrong structure (an object where a list belongs...). */
  private malformed(field?: string): never {
    return this.fail('Malformed', field);
  }

  /** The body as a whole is not a list. */
  malformedList(): never {
    throw new SpansRejected(`Malformed reading List<Span> from ${this.format}`, '$');
  }

  readList(list: unknown[]): ZipkinSpan[] {
    const spans = new Array<ZipkinSpan>(list.length);
    for (let i = 0; i < list.length; i++) {
      this.index = i;
      spans[i] = this.readSpan(list[i]);
    }
    return spans;
  }

  private string(value: unknown, field: string): string {
    if (typeof value === 'string') return value;
    // Gson reads a number as its text where a string is expected.
    if (typeof value === 'number') return String(value);
    return this.expected('string', tokenOf(value), field);
  }

  /** A JSON integer (or its text, which Gson also reads as a long); fractions are refused. */
  private long(value: unknown, field: string): number {
    if (isLong(value)) return Number(value);
    const shown = typeof value === 'number' || typeof value === 'string' ? String(value) : tokenOf(value);
    return this.expected('long', shown, field);
  }

  private boolean(value: unknown, field: string): boolean {
    if (typeof value === 'boolean') return value;
    return this.expected('boolean', tokenOf(value), field);
  }

  private hex(id: string, field: string): void {
    if (!LOWER_HEX.test(id)) this.fail(`${id} should be lower-hex encoded with no prefix`, field);
  }

  private traceId(value: unknown): string {
    const traceId = this.string(value, 'traceId');
    const length = traceId.length;
    if (length === 0) this.fail('traceId is empty', 'traceId');
    if (length > 32) this.fail('traceId.length > 32', 'traceId');
    this.hex(traceId, 'traceId');
    if (!NON_ZERO.test(traceId)) this.fail('traceId is all zeros', 'traceId');
    if (length === 32) return traceId.startsWith('0000000000000000') ? traceId.slice(16) : traceId;
    if (length === 16) return traceId;
    return traceId.padStart(length < 16 ? 16 : 32, '0');
  }

  private spanId(value: unknown, field: 'id' | 'parentId'): string | undefined {
    const id = this.string(value, field);
    if (id.length === 0) this.fail(`${field} is empty`, field);
    if (id.length > 16) this.fail(`${field}.length > 16`, field);
    this.hex(id, field);
    if (!NON_ZERO.test(id)) {
      if (field === 'id') this.fail('id is all zeros', field);
      return undefined;
    }
    return id.length < 16 ? id.padStart(16, '0') : id;
  }

  private serviceName(value: unknown, field: 'localEndpoint' | 'remoteEndpoint'): string | undefined {
    if (!isObject(value)) return this.malformed(field);
    const { serviceName, port, ipv4, ipv6 } = value;
    // Checked before naming the field, so valid endpoints build no path strings.
    if (port !== undefined && port !== null && !isLong(port)) this.long(port, `${field}.port`);
    if (ipv4 !== undefined && ipv4 !== null && !isText(ipv4)) this.string(ipv4, `${field}.ipv4`);
    if (ipv6 !== undefined && ipv6 !== null && !isText(ipv6)) this.string(ipv6, `${field}.ipv6`);
    if (serviceName === undefined || serviceName === null) return undefined;
    const name = this.string(serviceName, `${field}.serviceName`);
    return name === '' ? undefined : name.toLowerCase();
  }

  private annotations(value: unknown): void {
    if (!Array.isArray(value)) this.malformed('annotations');
    for (let i = 0; i < value.length; i++) {
      const annotation: unknown = value[i];
      if (!isObject(annotation)) this.malformed(`annotations[${i}]`);
      const { timestamp, value: text } = annotation;
      if (timestamp === undefined || timestamp === null || text === undefined || text === null) {
        const field = `annotations[${i}]`;
        this.fail(`Incomplete annotation at ${this.path(field)}`, field);
      }
      if (!isLong(timestamp)) this.long(timestamp, `annotations[${i}].timestamp`);
      if (!isText(text)) this.string(text, `annotations[${i}].value`);
    }
  }

  private tags(value: unknown): Record<string, string> {
    if (!isObject(value)) return this.malformed('tags');
    for (const key in value) {
      const tag = value[key];
      if (typeof tag === 'string') continue;
      if (tag === null) this.fail(`No value at ${this.path(`tags.${key}`)}`, `tags.${key}`);
      value[key] = this.string(tag, `tags.${key}`);
    }
    return value as Record<string, string>;
  }

  private readSpan(raw: unknown): ZipkinSpan {
    if (!isObject(raw)) return this.malformed();
    // Zipkin's test for a v1 body sent to the v2 endpoint; a field lookup here, not a scan of the body.
    if (raw.binaryAnnotations !== undefined) {
      throw new SpansRejected('Expected a JSON_V2 encoded list, but received: JSON_V1', '$');
    }
    if (raw.traceId === undefined || raw.id === undefined) {
      const missing = `${raw.traceId === undefined ? ' traceId' : ''}${raw.id === undefined ? ' id' : ''}`;
      this.fail(`Missing :${missing}`);
    }
    const span: ZipkinSpan = { traceId: this.traceId(raw.traceId), id: this.spanId(raw.id, 'id')!, tags: {} };
    // Zipkin skips null optional fields.
    const { parentId, kind, name, timestamp, duration, localEndpoint, remoteEndpoint } = raw;
    if (parentId !== undefined && parentId !== null) {
      const parent = this.spanId(parentId, 'parentId');
      if (parent !== undefined && parent !== span.id) span.parentId = parent;
    }
    if (kind !== undefined && kind !== null) {
      const text = this.string(kind, 'kind');
      if (!KINDS.has(text)) this.fail(`No enum constant zipkin2.Span.Kind.${text}`, 'kind');
      span.kind = text as SpanKind;
    }
    if (name !== undefined && name !== null) {
      const text = this.string(name, 'name');
      if (text !== '') span.name = text.toLowerCase();
    }
    if (timestamp !== undefined && timestamp !== null) {
      const us = this.long(timestamp, 'timestamp');
      if (us > 0) span.timestampUs = us;
    }
    if (duration !== undefined && duration !== null) {
      const us = this.long(duration, 'duration');
      if (us > 0) span.durationUs = us;
    }
    if (localEndpoint !== undefined && localEndpoint !== null) {
      const serviceName = this.serviceName(localEndpoint, 'localEndpoint');
      if (serviceName !== undefined) span.serviceName = serviceName;
    }
    if (remoteEndpoint !== undefined && remoteEndpoint !== null)
      this.serviceName(remoteEndpoint, 'remoteEndpoint');
    if (raw.annotations !== undefined && raw.annotations !== null) this.annotations(raw.annotations);
    if (raw.tags !== undefined && raw.tags !== null) span.tags = this.tags(raw.tags);
    if (raw.debug !== undefined && raw.debug !== null) this.boolean(raw.debug, 'debug');
    if (raw.shared !== undefined && raw.shared !== null) this.boolean(raw.shared, 'shared');
    return span;
  }
}
