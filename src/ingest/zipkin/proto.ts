import protobuf from 'protobufjs';
import { varintAt } from '../protobufWire.js';
import { checkSpanCount, SpanReader, SpansRejected, type ZipkinSpan } from './span.js';

/**
 * zipkin-api's proto3 `ListOfSpans` (package zipkin.proto3), declared with protobufjs' reflection API. Field
 * numbers and types are the wire contract; only the fields the collector reads are decoded into spans.
 */
const { Enum, Field, MapField, Root, Type } = protobuf;

const root = new Root().define('zipkin.proto3');
root.add(
  new Type('Endpoint')
    .add(new Field('serviceName', 1, 'string'))
    .add(new Field('ipv4', 2, 'bytes'))
    .add(new Field('ipv6', 3, 'bytes'))
    .add(new Field('port', 4, 'int32')),
);
root.add(
  new Type('Annotation').add(new Field('timestamp', 1, 'fixed64')).add(new Field('value', 2, 'string')),
);
root.add(
  new Type('Span')
    .add(new Enum('Kind', { SPAN_KIND_UNSPECIFIED: 0, CLIENT: 1, SERVER: 2, PRODUCER: 3, CONSUMER: 4 }))
    .add(new Field('traceId', 1, 'bytes'))
    .add(new Field('parentId', 2, 'bytes'))
    .add(new Field('id', 3, 'bytes'))
    .add(new Field('kind', 4, 'Kind'))
    .add(new Field('name', 5, 'string'))
    .add(new Field('timestamp', 6, 'fixed64'))
    .add(new Field('duration', 7, 'uint64'))
    .add(new Field('localEndpoint', 8, 'Endpoint'))
    .add(new Field('remoteEndpoint', 9, 'Endpoint'))
    .add(new Field('annotations', 10, 'Annotation', 'repeated'))
    .add(new MapField('tags', 11, 'string', 'string'))
    .add(new Field('debug', 12, 'bool'))
    .add(new Field('shared', 13, 'bool')),
);
root.add(new Type('ListOfSpans').add(new Field('spans', 1, 'Span', 'repeated')));
export const ListOfSpans = root.lookupType('zipkin.proto3.ListOfSpans');

const reader = new SpanReader('proto3');
/** Field 1 (spans), length-delimited: the first byte of every non-empty ListOfSpans. */
const LIST_TAG = 0x0a;

interface ProtoEndpoint {
  serviceName?: string;
}

interface ProtoSpan {
  traceId?: Uint8Array;
  parentId?: Uint8Array;
  id?: Uint8Array;
  kind?: string;
  name?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: ProtoEndpoint;
  tags?: Record<string, string>;
}

const hex = (bytes: Uint8Array | undefined) =>
  bytes && bytes.length > 0
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
    : undefined;

/** proto3 leaves defaults off the wire: empty bytes, zero numbers and the zero enum are absent. */
function asJsonSpan(span: ProtoSpan): Record<string, unknown> {
  return {
    traceId: hex(span.traceId),
    id: hex(span.id),
    parentId: hex(span.parentId),
    kind: span.kind === 'SPAN_KIND_UNSPECIFIED' ? undefined : span.kind,
    name: span.name,
    timestamp: span.timestamp,
    duration: span.duration,
    localEndpoint: span.localEndpoint && { serviceName: span.localEndpoint.serviceName },
    tags: span.tags,
  };
}

/**
 * Spans in a ListOfSpans, counted by walking its top-level fields (tag, length, skip) before decoding any;
 * the walk stops at the first field that is not a span, which the decoder then reports.
 */
export function countProtoSpans(body: Buffer): number {
  let spans = 0;
  let at = 0;
  while (at < body.length && body[at] === LIST_TAG) {
    const length = varintAt(body, at + 1);
    if (!length) break;
    spans++;
    at = length[1] + length[0];
  }
  return spans;
}

/** Decodes a proto3 ListOfSpans body; the same validation as JSON applies to what it holds. */
export function decodeProtoSpans(body: Buffer): ZipkinSpan[] {
  if (body.length === 0) return [];
  if (body[0] !== LIST_TAG) throw new SpansRejected('Expected a PROTO3 encoded list', '$');
  checkSpanCount(countProtoSpans(body));
  let spans: ProtoSpan[];
  try {
    const message = ListOfSpans.decode(body);
    spans = ListOfSpans.toObject(message, { longs: Number, enums: String }).spans as ProtoSpan[];
  } catch (error) {
    throw new SpansRejected(`${(error as Error).message} reading List<Span> from proto3`, '$');
  }
  return reader.readList(spans.map(asJsonSpan));
}
