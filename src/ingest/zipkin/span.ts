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

/** The whole batch is refused, as Zipkin refuses it: `path` is the JSON path of the bad value. */
export class SpansRejected extends Error {
  override name = 'SpansRejected';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

const KINDS = new Set<string>(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']);
const LOWER_HEX = /^[0-9a-f]+$/;
const ALL_ZEROS = /^0+$/;
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

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one list of raw spans (parsed JSON, or proto3 turned into the same shape). */
export class SpanReader {
  /** `format` names the encoding in messages: "json" or "proto3", as Zipkin's codecs do. */
  constructor(private readonly format: 'json' | 'proto3') {}

  private fail(cause: string, path: string): never {
    throw new SpansRejected(`${cause} reading List<Span> from ${this.format}`, path);
  }

  /** `Malformed`, Zipkin's word for a value of the wrong structure (an object where a list belongs...). */
  malformed(path: string): never {
    return this.fail('Malformed', path);
  }

  readList(list: unknown[]): ZipkinSpan[] {
    const spans = new Array<ZipkinSpan>(list.length);
    for (let i = 0; i < list.length; i++) spans[i] = this.readSpan(list[i], `$[${i}]`);
    return spans;
  }

  private string(value: unknown, path: string): string {
    if (typeof value === 'string') return value;
    // Gson reads a number as its text where a string is expected.
    if (typeof value === 'number') return String(value);
    return this.fail(`Expected a string but was ${tokenOf(value)} at path ${path}`, path);
  }

  /** A JSON integer (or its text, which Gson also reads as a long); fractions are refused. */
  private long(value: unknown, path: string): number {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && INTEGER_TEXT.test(value)) return Number(value);
    const shown = typeof value === 'number' || typeof value === 'string' ? String(value) : tokenOf(value);
    return this.fail(`Expected a long but was ${shown} at path ${path}`, path);
  }

  private boolean(value: unknown, path: string): boolean {
    if (typeof value === 'boolean') return value;
    return this.fail(`Expected a boolean but was ${tokenOf(value)} at path ${path}`, path);
  }

  private hex(id: string, path: string): void {
    if (!LOWER_HEX.test(id)) this.fail(`${id} should be lower-hex encoded with no prefix`, path);
  }

  private traceId(value: unknown, path: string): string {
    const traceId = this.string(value, path);
    const length = traceId.length;
    if (length === 0) this.fail('traceId is empty', path);
    if (length > 32) this.fail('traceId.length > 32', path);
    this.hex(traceId, path);
    if (ALL_ZEROS.test(traceId)) this.fail('traceId is all zeros', path);
    if (length === 32) return traceId.startsWith('0000000000000000') ? traceId.slice(16) : traceId;
    if (length === 16) return traceId;
    return traceId.padStart(length < 16 ? 16 : 32, '0');
  }

  private spanId(value: unknown, path: string, field: 'id' | 'parentId'): string | undefined {
    const id = this.string(value, path);
    if (id.length === 0) this.fail(`${field} is empty`, path);
    if (id.length > 16) this.fail(`${field}.length > 16`, path);
    this.hex(id, path);
    if (ALL_ZEROS.test(id)) {
      if (field === 'id') this.fail('id is all zeros', path);
      return undefined;
    }
    return id.length < 16 ? id.padStart(16, '0') : id;
  }

  private serviceName(value: unknown, path: string): string | undefined {
    if (!isObject(value)) return this.malformed(path);
    const { serviceName, port, ipv4, ipv6 } = value;
    if (port !== undefined && port !== null) this.long(port, `${path}.port`);
    if (ipv4 !== undefined && ipv4 !== null) this.string(ipv4, `${path}.ipv4`);
    if (ipv6 !== undefined && ipv6 !== null) this.string(ipv6, `${path}.ipv6`);
    if (serviceName === undefined || serviceName === null) return undefined;
    const name = this.string(serviceName, `${path}.serviceName`);
    return name === '' ? undefined : name.toLowerCase();
  }

  private annotations(value: unknown, path: string): void {
    if (!Array.isArray(value)) this.malformed(path);
    for (let i = 0; i < value.length; i++) {
      const annotation: unknown = value[i];
      const at = `${path}[${i}]`;
      if (!isObject(annotation)) this.malformed(at);
      const { timestamp, value: text } = annotation;
      if (timestamp === undefined || timestamp === null || text === undefined || text === null) {
        this.fail(`Incomplete annotation at ${at}`, at);
      }
      this.long(timestamp, `${at}.timestamp`);
      this.string(text, `${at}.value`);
    }
  }

  private tags(value: unknown, path: string): Record<string, string> {
    if (!isObject(value)) return this.malformed(path);
    for (const key in value) {
      const tag = value[key];
      if (typeof tag === 'string') continue;
      const at = `${path}.${key}`;
      if (tag === null) this.fail(`No value at ${at}`, at);
      value[key] = this.string(tag, at);
    }
    return value as Record<string, string>;
  }

  private readSpan(raw: unknown, path: string): ZipkinSpan {
    if (!isObject(raw)) return this.malformed(path);
    if (raw.traceId === undefined || raw.id === undefined) {
      const missing = `${raw.traceId === undefined ? ' traceId' : ''}${raw.id === undefined ? ' id' : ''}`;
      this.fail(`Missing :${missing}`, path);
    }
    const span: ZipkinSpan = {
      traceId: this.traceId(raw.traceId, `${path}.traceId`),
      id: this.spanId(raw.id, `${path}.id`, 'id')!,
      tags: {},
    };
    // Zipkin skips null optional fields.
    const { parentId, kind, name, timestamp, duration, localEndpoint, remoteEndpoint } = raw;
    if (parentId !== undefined && parentId !== null) {
      const parent = this.spanId(parentId, `${path}.parentId`, 'parentId');
      if (parent !== undefined && parent !== span.id) span.parentId = parent;
    }
    if (kind !== undefined && kind !== null) {
      const text = this.string(kind, `${path}.kind`);
      if (!KINDS.has(text)) this.fail(`No enum constant zipkin2.Span.Kind.${text}`, `${path}.kind`);
      span.kind = text as SpanKind;
    }
    if (name !== undefined && name !== null) {
      const text = this.string(name, `${path}.name`);
      if (text !== '') span.name = text.toLowerCase();
    }
    if (timestamp !== undefined && timestamp !== null) {
      const us = this.long(timestamp, `${path}.timestamp`);
      if (us > 0) span.timestampUs = us;
    }
    if (duration !== undefined && duration !== null) {
      const us = this.long(duration, `${path}.duration`);
      if (us > 0) span.durationUs = us;
    }
    if (localEndpoint !== undefined && localEndpoint !== null) {
      const serviceName = this.serviceName(localEndpoint, `${path}.localEndpoint`);
      if (serviceName !== undefined) span.serviceName = serviceName;
    }
    if (remoteEndpoint !== undefined && remoteEndpoint !== null) {
      this.serviceName(remoteEndpoint, `${path}.remoteEndpoint`);
    }
    if (raw.annotations !== undefined && raw.annotations !== null) {
      this.annotations(raw.annotations, `${path}.annotations`);
    }
    if (raw.tags !== undefined && raw.tags !== null) span.tags = this.tags(raw.tags, `${path}.tags`);
    if (raw.debug !== undefined && raw.debug !== null) this.boolean(raw.debug, `${path}.debug`);
    if (raw.shared !== undefined && raw.shared !== null) this.boolean(raw.shared, `${path}.shared`);
    return span;
  }
}
