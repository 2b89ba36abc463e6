import { checkSpanCount, SpansRejected } from '../zipkin/span.js';
import {
  AttributeNames,
  countProtoValues,
  ExportTraceServiceRequest,
  scalarAttributes,
  type WireLong,
  type WireSpan,
  type WireTraceRequest,
} from './proto.js';
import {
  bytesId,
  COUNT_FIRST_BYTES,
  checkAttributeCount,
  checkIdentity,
  type Nanos,
  nanosOfBits,
  type OtlpSpanParts,
  type OtlpSpanSink,
  STATUS_CODE_ERROR,
  zipkinKind,
} from './spans.js';

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

const nanosOf = (value: WireLong): Nanos =>
  typeof value === 'number'
    ? { micros: Math.floor(value / 1000), rest: value % 1000 }
    : nanosOfBits(value.low, value.high);

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

/** The resource's `service.name`; undefined when it has none, or its attributes are not valid protobuf. */
function serviceOf(attributes: Uint8Array[] | undefined): string | undefined {
  try {
    return scalarAttributes(attributes ?? [], SERVICE_NAME, {})['service.name'];
  } catch {
    return undefined;
  }
}

/** Reads an OTLP/protobuf ExportTraceServiceRequest into `sink`; throws SpansRejected when it cannot be read. */
export function readProtoTraces(body: Buffer, sink: OtlpSpanSink): void {
  if (body.length > COUNT_FIRST_BYTES) {
    const counts = countProtoValues(body);
    checkSpanCount(counts.spans);
    checkAttributeCount(counts.attributes);
  }
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
