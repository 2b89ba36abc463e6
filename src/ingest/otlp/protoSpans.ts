import protobuf from 'protobufjs';
import { checkSpanCount, SpansRejected } from '../zipkin/span.js';
import { AttributeNames, countProtoValues, readKeyValue, scalarAttributes } from './proto.js';
import {
  bytesIdAt,
  COUNT_FIRST_BYTES,
  checkAttributeCount,
  checkIdentity,
  nanosOfBits,
  type OtlpSpanParts,
  type OtlpSpanSink,
  type SpanAt,
  STATUS_CODE_ERROR,
  zipkinKind,
} from './spans.js';

/**
 * An ExportTraceServiceRequest read straight off the wire with protobufjs' Reader: only the fields the counting
 * rules use are read (service.name, span ids, name, kind, times, status code, the attributes in
 * SPAN_TAG_NAMES); the rest (scopes, events, links, other attributes, dropped counts, unknown fields) is
 * skipped, and no message, id or attribute is built. It reads exactly as `ExportTraceServiceRequest.decode` of
 * the messages in proto.ts would (the same Reader calls, a nested message's reader held within its length, the
 * last of a repeated singular field winning) and throws the same errors: test/unit/otlp-proto-walk.test.ts
 * holds it to that full decode, the oracle.
 */

const { Reader } = protobuf;

/**
 * The attributes the Zipkin rules read (zipkin/observe.ts; test/unit/otlp-spans.test.ts holds this list to that
 * file): the others are skipped unread.
 */
export const SPAN_TAG_NAMES = [
  'http.method',
  'http.request.method',
  'http.status_code',
  'http.response.status_code',
  'http.route',
  'http.path',
  'http.target',
  'url.path',
  'error',
  'otel.status_code',
  'user_agent.original',
  'http.user_agent',
] as const;
const SPAN_TAGS = new AttributeNames(SPAN_TAG_NAMES);
const SERVICE_NAME = new AttributeNames(['service.name']);

/** Nesting depths as the generated decoders count them, for `skipType`'s group limit. */
const REQUEST_DEPTH = 0;
const RESOURCE_SPANS_DEPTH = 1;
const RESOURCE_DEPTH = 2;
const SCOPE_DEPTH = 2;
const SPAN_DEPTH = 3;
const STATUS_DEPTH = 4;

/** Enters the length-delimited message at the reader: its reader is held within it; returns the outer `len`. */
function enter(reader: protobuf.Reader): number {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) throw new RangeError('index out of range');
  const outer = reader.len;
  reader.len = end;
  return outer;
}

/**
 * Leaves a message entered with `enter`. Every Reader call is bounded by `len`, so the reader stands at the
 * message's end (the generated decoders check this too, and cannot fail it either).
 */
function leave(reader: protobuf.Reader, outer: number): void {
  reader.len = outer;
}

/** Steps over a bytes field as `Reader.bytes()` would read it, unbuilt; returns where its bytes start. */
function skipBytes(reader: protobuf.Reader): number {
  const at = reader.pos;
  const length = reader.uint32();
  if (reader.pos + length > reader.len) {
    reader.pos = at;
    reader.bytes(); // throws protobufjs' own error for it
  }
  const start = reader.pos;
  reader.pos += length;
  return start;
}

/** Steps over a string field as a BufferReader's `string()` reads it: a length past the message is cut short. */
function skipString(reader: protobuf.Reader): void {
  const length = reader.uint32();
  reader.pos = Math.min(reader.pos + length, reader.len);
}

/** A fixed64 as its two unsigned halves (the Long `fixed64()` would build). */
function fixed64Halves(reader: protobuf.Reader, halves: Uint32Array, at: number): void {
  if (reader.pos + 8 > reader.len) reader.fixed64(); // throws protobufjs' own error for it
  halves[at] = reader.fixed32();
  halves[at + 1] = reader.fixed32();
}

/** Whether the Status message at the reader has code STATUS_CODE_ERROR (a later Status replaces an earlier). */
function statusIsError(reader: protobuf.Reader): boolean {
  const outer = enter(reader);
  let code = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 2) skipString(reader);
    else if (tag >>> 3 === 3) code = reader.int32();
    else reader.skipType(tag & 7, STATUS_DEPTH);
  }
  leave(reader, outer);
  return code === STATUS_CODE_ERROR;
}

/** One export's reading: the body, a second reader for attributes, and room reused from span to span. */
class TraceWalk {
  private readonly reader: protobuf.Reader;
  /** Reads KeyValues in place, set to each one's bytes. */
  private readonly values: protobuf.Reader;
  /** The KeyValues of the message being read: start and end of each, in order. */
  private readonly attributes: number[] = [];
  /** Start and end of the trace, span and parent span ids. */
  private readonly ids = new Int32Array(6);
  /** Start and end times, low and high halves. */
  private readonly times = new Uint32Array(4);
  /** Every span read, with where it sits; given to the sink once the whole export has been read. */
  readonly spans: Array<{ at: SpanAt; parts: OtlpSpanParts | string }> = [];
  /** The service of each ResourceSpans. */
  readonly services: Array<string | undefined> = [];

  constructor(private readonly body: Buffer) {
    this.reader = Reader.create(body);
    this.values = Reader.create(body);
  }

  /** The whole ExportTraceServiceRequest (resource_spans = 1). */
  read(): void {
    const { reader } = this;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 1) this.resourceSpans(this.services.length);
      else reader.skipType(tag & 7, REQUEST_DEPTH);
    }
  }

  /** ResourceSpans: resource = 1 (the last one counts), scope_spans = 2. */
  private resourceSpans(r: number): void {
    const { reader } = this;
    const outer = enter(reader);
    let resource: number[] = [];
    let s = 0;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 1) resource = this.resource();
      else if (tag >>> 3 === 2) this.scopeSpans(r, s++);
      else reader.skipType(tag & 7, RESOURCE_SPANS_DEPTH);
    }
    leave(reader, outer);
    this.services.push(this.serviceOf(resource));
  }

  /** Resource: where its attributes (1) are. */
  private resource(): number[] {
    const { reader } = this;
    const outer = enter(reader);
    const attributes: number[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 1) attributes.push(skipBytes(reader), reader.pos);
      else reader.skipType(tag & 7, RESOURCE_DEPTH);
    }
    leave(reader, outer);
    return attributes;
  }

  /** ScopeSpans: spans = 2 (the scope itself is read by no rule). */
  private scopeSpans(r: number, s: number): void {
    const { reader } = this;
    const outer = enter(reader);
    let k = 0;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 2) this.spans.push({ at: [r, s, k++], parts: this.span() });
      else reader.skipType(tag & 7, SCOPE_DEPTH);
    }
    leave(reader, outer);
  }

  /** A Span as parts, or why it is refused. */
  private span(): OtlpSpanParts | string {
    const { reader, ids, times, attributes, body } = this;
    const outer = enter(reader);
    ids.fill(0);
    times.fill(0);
    attributes.length = 0;
    let name = '';
    let kind = 0;
    let error = false;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      switch (tag >>> 3) {
        case 1:
        case 2:
        case 4: {
          // trace_id, span_id, parent_span_id at 0, 2, 4 of `ids`
          const at = tag >>> 3 === 4 ? 4 : ((tag >>> 3) - 1) * 2;
          ids[at] = skipBytes(reader);
          ids[at + 1] = reader.pos;
          break;
        }
        case 5:
          name = reader.string();
          break;
        case 6:
          kind = reader.int32();
          break;
        case 7:
          fixed64Halves(reader, times, 0);
          break;
        case 8:
          fixed64Halves(reader, times, 2);
          break;
        case 9:
          attributes.push(skipBytes(reader), reader.pos);
          break;
        case 15:
          error = statusIsError(reader);
          break;
        default:
          reader.skipType(tag & 7, SPAN_DEPTH);
      }
    }
    leave(reader, outer);
    const checked = checkIdentity({
      traceId: bytesIdAt(body, ids[0]!, ids[1]!),
      spanId: bytesIdAt(body, ids[2]!, ids[3]!),
      parentSpanId: bytesIdAt(body, ids[4]!, ids[5]!),
      start: nanosOfBits(times[0]!, times[1]!),
      end: nanosOfBits(times[2]!, times[3]!),
    });
    if (typeof checked === 'string') return checked;
    let tags: Record<string, string>;
    try {
      tags = this.attributesAt(attributes, SPAN_TAGS);
    } catch {
      return `attributes are not valid protobuf (${this.keyValueProblem(attributes)})`;
    }
    return {
      timestampUs: checked.timestampUs,
      durationUs: checked.durationUs,
      parentSpanId: checked.child ? body.toString('hex', ids[4], ids[5]) : undefined,
      name,
      kind: zipkinKind(kind),
      tags,
      error,
    };
  }

  /** The KeyValues at `ranges` named in `names`, as text; throws when one is not valid protobuf. */
  private attributesAt(ranges: readonly number[], names: AttributeNames): Record<string, string> {
    const { values } = this;
    const tags: Record<string, string> = {};
    for (let i = 0; i < ranges.length; i += 2) {
      values.pos = ranges[i]!;
      values.len = ranges[i + 1]!;
      readKeyValue(values, names, tags);
    }
    return tags;
  }

  /**
   * Why a span's KeyValues are not valid protobuf, in the words of reading each alone (as its own bytes, so the
   * offsets in the message count from the KeyValue's start, not the body's); rare, so copying is no matter.
   */
  private keyValueProblem(ranges: readonly number[]): string {
    const list: Buffer[] = [];
    for (let i = 0; i < ranges.length; i += 2) list.push(this.body.subarray(ranges[i], ranges[i + 1]));
    try {
      scalarAttributes(list, SPAN_TAGS, {});
    } catch (error) {
      return (error as Error).message;
    }
    return 'unreadable';
  }

  /** The resource's `service.name`; undefined when it has none, or its attributes are not valid protobuf. */
  private serviceOf(ranges: readonly number[]): string | undefined {
    try {
      return this.attributesAt(ranges, SERVICE_NAME)['service.name'];
    } catch {
      return undefined;
    }
  }
}

/** Reads an OTLP/protobuf ExportTraceServiceRequest into `sink`; throws SpansRejected when it cannot be read. */
export function readProtoTraces(body: Buffer, sink: OtlpSpanSink): void {
  if (body.length > COUNT_FIRST_BYTES) {
    const counts = countProtoValues(body);
    checkSpanCount(counts.spans);
    checkAttributeCount(counts.attributes);
  }
  const walk = new TraceWalk(body);
  try {
    walk.read();
  } catch (error) {
    throw new SpansRejected(
      `${(error as Error).message} reading ExportTraceServiceRequest from protobuf`,
      '$',
    );
  }
  // Nothing is counted before the whole export has been read: one that cannot be is refused whole.
  checkSpanCount(walk.spans.length);
  for (const { at, parts } of walk.spans) sink.take(at, walk.services[at[0]], parts);
}
