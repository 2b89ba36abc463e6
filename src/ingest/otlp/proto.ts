import protobuf from 'protobufjs';
import { varintAt } from '../protobufWire.js';

/**
 * The OTLP messages the trace receiver reads and answers, declared with protobufjs' reflection API from
 * opentelemetry-proto v1.5.0: `collector/trace/v1/trace_service.proto`, `trace/v1/trace.proto`,
 * `common/v1/common.proto`, `resource/v1/resource.proto`, and googleapis' `google/rpc/status.proto`. Field
 * numbers and types are the wire contract. Only what the receiver reads is declared: undeclared fields (events,
 * links, trace state) are skipped on the wire, never built. Attributes (common.proto's KeyValue) are declared
 * as the bytes they are on the wire and read by `readKeyValue` with protobufjs' Reader, which builds only
 * their text: decoded as messages (a KeyValue, an AnyValue and a Long each), they took most of the decoding.
 * The receiver reads ExportTraceServiceRequest off the wire without decoding it (protoSpans.ts), exactly as
 * its `decode` would: the trace messages here are that reading's contract (its test decodes with them), the
 * answers', and the benchmark's bare route's.
 */
const { Enum, Field, Reader, Root, Type } = protobuf;

/** The OTLP root: the trace messages here, the metrics messages in metricsProto.ts. */
export const root = new Root();
root
  .define('opentelemetry.proto.resource.v1')
  .add(new Type('Resource').add(new Field('attributes', 1, 'bytes', 'repeated')));

const trace = root.define('opentelemetry.proto.trace.v1');
trace.add(
  new Type('Status')
    .add(new Enum('StatusCode', { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 }))
    .add(new Field('message', 2, 'string'))
    .add(new Field('code', 3, 'StatusCode')),
);
trace.add(
  new Type('Span')
    .add(
      new Enum('SpanKind', {
        SPAN_KIND_UNSPECIFIED: 0,
        SPAN_KIND_INTERNAL: 1,
        SPAN_KIND_SERVER: 2,
        SPAN_KIND_CLIENT: 3,
        SPAN_KIND_PRODUCER: 4,
        SPAN_KIND_CONSUMER: 5,
      }),
    )
    .add(new Field('traceId', 1, 'bytes'))
    .add(new Field('spanId', 2, 'bytes'))
    .add(new Field('parentSpanId', 4, 'bytes'))
    .add(new Field('name', 5, 'string'))
    .add(new Field('kind', 6, 'SpanKind'))
    .add(new Field('startTimeUnixNano', 7, 'fixed64'))
    .add(new Field('endTimeUnixNano', 8, 'fixed64'))
    .add(new Field('attributes', 9, 'bytes', 'repeated'))
    .add(new Field('status', 15, 'Status')),
);
trace.add(new Type('ScopeSpans').add(new Field('spans', 2, 'Span', 'repeated')));
trace.add(
  new Type('ResourceSpans')
    .add(new Field('resource', 1, 'opentelemetry.proto.resource.v1.Resource'))
    .add(new Field('scopeSpans', 2, 'ScopeSpans', 'repeated')),
);

const service = root.define('opentelemetry.proto.collector.trace.v1');
service.add(
  new Type('ExportTraceServiceRequest').add(
    new Field('resourceSpans', 1, 'opentelemetry.proto.trace.v1.ResourceSpans', 'repeated'),
  ),
);
service.add(
  new Type('ExportTracePartialSuccess')
    .add(new Field('rejectedSpans', 1, 'int64'))
    .add(new Field('errorMessage', 2, 'string')),
);
service.add(
  new Type('ExportTraceServiceResponse').add(new Field('partialSuccess', 1, 'ExportTracePartialSuccess')),
);

root
  .define('google.rpc')
  .add(new Type('Status').add(new Field('code', 1, 'int32')).add(new Field('message', 2, 'string')));

export const ExportTraceServiceRequest = root.lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
);
export const ExportTraceServiceResponse = root.lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
);
export const RpcStatus = root.lookupType('google.rpc.Status');

/** A 64-bit integer as protobufjs reads it (long.js), or as a number where it fits. */
export type WireLong = number | { low: number; high: number; unsigned?: boolean };

/** An int64 as the text the Zipkin exporter writes for it. */
function intText(value: WireLong): string {
  if (typeof value === 'number') return String(value);
  // Small values (every status code) need no 64-bit arithmetic.
  if ((value.high === 0 && value.low >= 0) || (value.high === -1 && value.low < 0)) return String(value.low);
  return String(value);
}

/** AnyValue's scalar fields as tag bytes: 1 string_value, 2 bool_value, 3 int_value, 4 double_value. */
const STRING_VALUE = 0x0a;
const BOOL_VALUE = 0x10;
const INT_VALUE = 0x18;
const DOUBLE_VALUE = 0x21;
/** KeyValue's fields as tag bytes: 1 key, 2 value. */
const KEY = 0x0a;
const VALUE = 0x12;

/** The text of the AnyValue from the reader's position to `end`; undefined for array, map and bytes values. */
function anyValueText(reader: protobuf.Reader, end: number): string | undefined {
  let text: string | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === STRING_VALUE) text = reader.string();
    else if (tag === BOOL_VALUE) text = String(reader.bool());
    else if (tag === INT_VALUE) text = intText(reader.int64() as WireLong);
    else if (tag === DOUBLE_VALUE) text = String(reader.double());
    else {
      // The value is a oneof: a later member replaces an earlier one.
      text = undefined;
      reader.skipType(tag & 7);
    }
  }
  if (reader.pos !== end) throw new RangeError('an attribute value overruns its length');
  return text;
}

/**
 * Attribute names compared as bytes, before any is turned into text: an export's attributes are mostly ones no
 * counting rule reads (`url.scheme`, `server.address`...), which are skipped unread.
 */
export class AttributeNames {
  private readonly byLength = new Map<number, Array<[bytes: Buffer, name: string]>>();

  constructor(names: readonly string[]) {
    for (const name of names) {
      const bytes = Buffer.from(name, 'utf8');
      const same = this.byLength.get(bytes.length) ?? [];
      same.push([bytes, name]);
      this.byLength.set(bytes.length, same);
    }
  }

  /** The name held in `buf` from `start` for `length` bytes, if it is one of these. */
  find(buf: Uint8Array, start: number, length: number): string | undefined {
    const candidates = this.byLength.get(length);
    if (candidates === undefined) return undefined;
    for (const [bytes, name] of candidates) {
      let i = 0;
      while (i < length && buf[start + i] === bytes[i]) i++;
      if (i === length) return name;
    }
    return undefined;
  }
}

/**
 * Adds the KeyValue between the reader's position and its `len`, when it is named in `names` and has a string,
 * int, double or bool value, to `tags` as text (as the Zipkin exporter writes it); throws when it is not valid
 * protobuf. The reader may hold a whole body, set to the KeyValue's bytes: nothing is copied.
 */
export function readKeyValue(
  reader: protobuf.Reader,
  names: AttributeNames,
  tags: Record<string, string>,
): void {
  let key: string | undefined;
  let text: string | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === KEY) {
      const length = reader.uint32();
      if (reader.pos + length > reader.len) throw new RangeError('an attribute name overruns its KeyValue');
      key = names.find(reader.buf, reader.pos, length);
      // An attribute not read: its value is not turned into text.
      if (key === undefined) break;
      reader.pos += length;
    } else if (tag === VALUE) {
      const end = reader.uint32() + reader.pos;
      if (end > reader.len) throw new RangeError('an attribute value overruns its KeyValue');
      text = anyValueText(reader, end);
    } else reader.skipType(tag & 7);
  }
  if (key !== undefined && text !== undefined) tags[key] = text;
}

/** readKeyValue for each KeyValue of `list` (each its own bytes, as the metrics decoder keeps them). */
export function scalarAttributes(
  list: readonly Uint8Array[],
  names: AttributeNames,
  tags: Record<string, string>,
): Record<string, string> {
  for (const bytes of list) readKeyValue(Reader.create(bytes), names, tags);
  return tags;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/**
 * Calls `visit` with the number and byte range of each length-delimited field between `start` and `end`,
 * skipping the others; stops at the first field it cannot read (the decoder reports it).
 */
export function eachField(
  body: Uint8Array,
  start: number,
  end: number,
  visit: (field: number, from: number, to: number) => void,
): void {
  let at = start;
  while (at < end) {
    const tag = varintAt(body, at, end);
    if (!tag) return;
    const wireType = tag[0] % 8;
    at = tag[1];
    if (wireType === VARINT) {
      const value = varintAt(body, at, end);
      if (!value) return;
      at = value[1];
    } else if (wireType === FIXED64) at += 8;
    else if (wireType === FIXED32) at += 4;
    else if (wireType === LENGTH_DELIMITED) {
      const length = varintAt(body, at, end);
      if (!length || length[1] + length[0] > end) return;
      visit(Math.floor(tag[0] / 8), length[1], length[1] + length[0]);
      at = length[1] + length[0];
    } else return;
  }
}

/** What an export would build: its spans, and its attributes (of resources and spans). */
export interface ProtoCounts {
  spans: number;
  attributes: number;
}

/**
 * Spans and attributes in an ExportTraceServiceRequest (resource_spans = 1 → resource = 1 → attributes = 1, and
 * → scope_spans = 2 → spans = 2 → attributes = 9), counted by walking tags and lengths before anything is
 * decoded, so a body of millions of empty spans or attributes is refused unbuilt.
 */
export function countProtoValues(body: Uint8Array): ProtoCounts {
  const counts = { spans: 0, attributes: 0 };
  const attribute = () => {
    counts.attributes++;
  };
  eachField(body, 0, body.length, (field, from, to) => {
    if (field !== 1) return;
    eachField(body, from, to, (resourceField, resourceFrom, resourceTo) => {
      if (resourceField === 1) eachField(body, resourceFrom, resourceTo, (f) => f === 1 && attribute());
      else if (resourceField === 2)
        eachField(body, resourceFrom, resourceTo, (scopeField, spanFrom, spanTo) => {
          if (scopeField !== 2) return;
          counts.spans++;
          eachField(body, spanFrom, spanTo, (f) => f === 9 && attribute());
        });
    });
  });
  return counts;
}
