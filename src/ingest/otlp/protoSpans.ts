import { checkSpanCount, SpansRejected } from '../zipkin/span.js';
import {
  countProtoValues,
  ExportTraceServiceRequest,
  type WireKeyValue,
  type WireLong,
  type WireSpan,
  type WireTraceRequest,
} from './proto.js';
import {
  checkAttributeCount,
  checkIdentity,
  type Nanos,
  nanosOfBits,
  type OtlpSpanParts,
  type OtlpSpanSink,
  STATUS_CODE_ERROR,
  zipkinKind,
} from './spans.js';

const nanosOf = (value: WireLong): Nanos =>
  typeof value === 'number'
    ? { micros: Math.floor(value / 1000), rest: value % 1000 }
    : nanosOfBits(value.low, value.high);

/** An int64 attribute as the text the Zipkin exporter writes for it. */
function intText(value: WireLong): string {
  if (typeof value === 'number') return String(value);
  // Small values (every status code) need no 64-bit arithmetic.
  if ((value.high === 0 && value.low >= 0) || (value.high === -1 && value.low < 0)) return String(value.low);
  return String(value);
}

/** Scalar attributes as string tags (array, map and bytes values are not declared, so never decoded). */
function tagsOf(attributes: WireKeyValue[]): Record<string, string> {
  const tags: Record<string, string> = Object.create(null);
  for (const { key, value } of attributes) {
    switch (value?.value) {
      case 'stringValue':
        tags[key] = value.stringValue!;
        break;
      case 'intValue':
        tags[key] = intText(value.intValue!);
        break;
      case 'boolValue':
        tags[key] = String(value.boolValue);
        break;
      case 'doubleValue':
        tags[key] = String(value.doubleValue);
        break;
    }
  }
  return tags;
}

/** Absent bytes decode as an empty array. */
const hex = (bytes: Uint8Array) =>
  bytes.length === 0 ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');

function serviceOf(attributes: WireKeyValue[] | undefined): string | undefined {
  const value = attributes?.find((attribute) => attribute.key === 'service.name')?.value;
  return value?.value === 'stringValue' ? value.stringValue : undefined;
}

function readSpan(span: WireSpan): OtlpSpanParts | string {
  const checked = checkIdentity({
    traceId: hex(span.traceId),
    spanId: hex(span.spanId),
    parentSpanId: hex(span.parentSpanId),
    start: nanosOf(span.startTimeUnixNano),
    end: nanosOf(span.endTimeUnixNano),
  });
  if (typeof checked === 'string') return checked;
  return {
    ...checked,
    name: span.name,
    kind: zipkinKind(span.kind),
    tags: tagsOf(span.attributes),
    error: span.status?.code === STATUS_CODE_ERROR,
  };
}

/** Reads an OTLP/protobuf ExportTraceServiceRequest into `sink`; throws SpansRejected when it cannot be read. */
export function readProtoTraces(body: Buffer, sink: OtlpSpanSink): void {
  const counts = countProtoValues(body);
  checkSpanCount(counts.spans);
  checkAttributeCount(counts.attributes);
  let request: WireTraceRequest;
  try {
    request = ExportTraceServiceRequest.decode(body) as unknown as WireTraceRequest;
  } catch (error) {
    throw new SpansRejected(
      `${(error as Error).message} reading ExportTraceServiceRequest from protobuf`,
      '$',
    );
  }
  request.resourceSpans.forEach((resourceSpans, r) => {
    const service = serviceOf(resourceSpans.resource?.attributes);
    resourceSpans.scopeSpans.forEach((scopeSpans, s) => {
      scopeSpans.spans.forEach((span, k) => {
        sink.take([r, s, k], service, readSpan(span));
      });
    });
  });
}
