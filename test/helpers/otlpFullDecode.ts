import {
  AttributeNames,
  ExportTraceServiceRequest,
  scalarAttributes,
  type WireLong,
} from '../../src/ingest/otlp/proto.js';
import { SPAN_TAG_NAMES } from '../../src/ingest/otlp/protoSpans.js';
import {
  bytesIdAt,
  checkIdentity,
  type Nanos,
  nanosOfBits,
  type OtlpSpanParts,
  type OtlpSpanSink,
  STATUS_CODE_ERROR,
  zipkinKind,
} from '../../src/ingest/otlp/spans.js';
import { checkSpanCount, SpansRejected } from '../../src/ingest/zipkin/span.js';

/**
 * The receiver's former protobuf span reading, kept as the oracle of the one that reads off the wire
 * (src/ingest/otlp/protoSpans.ts): protobufjs decodes the whole ExportTraceServiceRequest into messages, then
 * the spans are mapped. It is slower, and plainly right. Bodies over COUNT_FIRST_BYTES are counted first by
 * both readers with the same code, so this one leaves that step out.
 */

interface WireSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  startTimeUnixNano: WireLong;
  endTimeUnixNano: WireLong;
  /** KeyValue messages, undecoded (see scalarAttributes). */
  attributes: Uint8Array[];
  status: { code: number } | null;
}

interface WireTraceRequest {
  resourceSpans: {
    resource: { attributes: Uint8Array[] } | null;
    scopeSpans: { spans: WireSpan[] }[];
  }[];
}

const SPAN_TAGS = new AttributeNames(SPAN_TAG_NAMES);
const SERVICE_NAME = new AttributeNames(['service.name']);

const nanosOf = (value: WireLong): Nanos =>
  typeof value === 'number'
    ? { micros: Math.floor(value / 1000), rest: value % 1000 }
    : nanosOfBits(value.low, value.high);

const bytesId = (bytes: Uint8Array) => bytesIdAt(bytes, 0, bytes.length);
const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');

function readSpan(span: WireSpan): OtlpSpanParts | string {
  const checked = checkIdentity({
    traceId: bytesId(span.traceId),
    spanId: bytesId(span.spanId),
    parentSpanId: bytesId(span.parentSpanId),
    start: nanosOf(span.startTimeUnixNano),
    end: nanosOf(span.endTimeUnixNano),
  });
  if (typeof checked === 'string') return checked;
  let tags: Record<string, string>;
  try {
    tags = scalarAttributes(span.attributes, SPAN_TAGS, {});
  } catch (error) {
    return `attributes are not valid protobuf (${(error as Error).message})`;
  }
  return {
    timestampUs: checked.timestampUs,
    durationUs: checked.durationUs,
    parentSpanId: checked.child ? hex(span.parentSpanId) : undefined,
    name: span.name,
    kind: zipkinKind(span.kind),
    tags,
    error: span.status?.code === STATUS_CODE_ERROR,
  };
}

function serviceOf(attributes: Uint8Array[] | undefined): string | undefined {
  try {
    return scalarAttributes(attributes ?? [], SERVICE_NAME, {})['service.name'];
  } catch {
    return undefined;
  }
}

/** Reads an ExportTraceServiceRequest into `sink` by decoding it whole; throws SpansRejected as the receiver. */
export function readProtoTracesByFullDecode(body: Buffer, sink: OtlpSpanSink): void {
  let request: WireTraceRequest;
  try {
    request = ExportTraceServiceRequest.decode(body) as unknown as WireTraceRequest;
  } catch (error) {
    throw new SpansRejected(
      `${(error as Error).message} reading ExportTraceServiceRequest from protobuf`,
      '$',
    );
  }
  let spans = 0;
  for (const { scopeSpans } of request.resourceSpans)
    for (const scope of scopeSpans) spans += scope.spans.length;
  checkSpanCount(spans);
  request.resourceSpans.forEach((resourceSpans, r) => {
    const service = serviceOf(resourceSpans.resource?.attributes);
    resourceSpans.scopeSpans.forEach((scopeSpans, s) => {
      scopeSpans.spans.forEach((span, k) => {
        sink.take([r, s, k], service, readSpan(span));
      });
    });
  });
}
