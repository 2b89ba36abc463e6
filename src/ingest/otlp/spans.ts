import type { BatchAggregate } from '../aggregate.js';
import { LabelRejected } from '../labels.js';
import type { ServiceRoutes } from '../routeTemplates.js';
import { TimeOutOfRange } from '../timeRange.js';
import { type SpanSummary, spanObservation } from '../zipkin/observe.js';
import { type SpanKind, SpansRejected, type ZipkinSpan } from '../zipkin/span.js';

/**
 * OTLP spans become observations by the Zipkin rules (zipkin/observe.ts): each span is first put in the shape
 * OpenTelemetry's own Zipkin exporter gives it (kinds INTERNAL and UNSPECIFIED unset, attributes as string
 * tags, status ERROR as `otel.status_code`, service and name lower-cased as Zipkin stores them), so a span
 * counts the same whichever way it arrives.
 */

/** Where a span sits in the request, for the message of a refusal. */
export type SpanAt = readonly [resource: number, scope: number, span: number];

/** OTLP's SpanKind numbers; the others (UNSPECIFIED, INTERNAL, unknown) have no Zipkin kind. */
const KIND_OF_NUMBER: Record<number, SpanKind> = { 2: 'SERVER', 3: 'CLIENT', 4: 'PRODUCER', 5: 'CONSUMER' };
/** The same kinds by their enum names, which JSON senders may write instead of numbers. */
const KIND_OF_NAME: Record<string, SpanKind> = {
  SPAN_KIND_SERVER: 'SERVER',
  SPAN_KIND_CLIENT: 'CLIENT',
  SPAN_KIND_PRODUCER: 'PRODUCER',
  SPAN_KIND_CONSUMER: 'CONSUMER',
};
export const STATUS_CODE_ERROR = 2;

/** A span kind given as OTLP's number (or, in JSON, its enum name), as a Zipkin kind. */
export function zipkinKind(kind: unknown): SpanKind | undefined {
  if (typeof kind === 'number') return KIND_OF_NUMBER[kind];
  if (typeof kind === 'string') return KIND_OF_NAME[kind] ?? KIND_OF_NUMBER[Number(kind)];
  return undefined;
}

/** A time in nanoseconds since the epoch, split so that no part loses precision in a double. */
export interface Nanos {
  micros: number;
  /** The nanoseconds past `micros`, 0 to 999. */
  rest: number;
}

/** A fixed64 as its two unsigned 32-bit halves: 2^32 ns = 4294967 µs + 296 ns, every step exact. */
export function nanosOfBits(low: number, high: number): Nanos {
  const hi = high >>> 0;
  const carry = hi * 296 + (low >>> 0);
  return { micros: hi * 4_294_967 + Math.floor(carry / 1000), rest: carry % 1000 };
}

const NANOS_TEXT = /^\d{1,20}$/;

/** A time as OTLP/JSON writes it (a decimal string, or a number); undefined when it is neither. */
export function nanosOfJson(value: unknown): Nanos | undefined {
  if (typeof value === 'string') {
    if (!NANOS_TEXT.test(value)) return undefined;
    const cut = Math.max(0, value.length - 3);
    return { micros: cut === 0 ? 0 : Number(value.slice(0, cut)), rest: Number(value.slice(cut)) };
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    const micros = Math.floor(value / 1000);
    return { micros, rest: value - micros * 1000 };
  }
  return undefined;
}

/**
 * Start and duration in microseconds, or why they are refused. The duration is rounded up, so a latency
 * threshold in microseconds judges the span exactly as its nanoseconds would.
 */
function spanTimes(start: Nanos, end: Nanos): { timestampUs: number; durationUs: number } | string {
  if (start.micros === 0 && start.rest === 0) return 'startTimeUnixNano is missing';
  const nanos = (end.micros - start.micros) * 1000 + (end.rest - start.rest);
  if (nanos < 0) return 'endTimeUnixNano is before startTimeUnixNano';
  return { timestampUs: start.micros, durationUs: Math.ceil(nanos / 1000) };
}

/** An id as a reader sees it: its length in bytes (NaN when its text is not hex) and whether it is all zeros. */
export interface IdShape {
  bytes: number;
  zero: boolean;
}

const HEX = /^[0-9a-fA-F]*$/;
const ALL_ZEROS = /^0*$/;

/** An id as OTLP/JSON writes it, in hex. */
export function hexId(hex: string): IdShape {
  return HEX.test(hex) && hex.length % 2 === 0
    ? { bytes: hex.length / 2, zero: ALL_ZEROS.test(hex) }
    : { bytes: Number.NaN, zero: false };
}

/** An id as protobuf carries it: the bytes of `body` from `start` to `end`. */
export function bytesIdAt(body: Uint8Array, start: number, end: number): IdShape {
  let zero = true;
  for (let i = start; i < end && zero; i++) zero = body[i] === 0;
  return { bytes: end - start, zero };
}

function idProblem(field: string, id: IdShape, bytes: number): string | undefined {
  if (Number.isNaN(id.bytes)) return `${field} is not hex`;
  if (id.bytes !== bytes) return `${field} must be ${bytes} bytes (${bytes * 2} hex digits)`;
  if (id.zero) return `${field} is all zeros`;
  return undefined;
}

/** What both encodings carry the same way once read: the shape of the ids, times split (see Nanos). */
export interface SpanIdentity {
  traceId: IdShape;
  spanId: IdShape;
  /** Empty (or all zeros) for a root span. */
  parentSpanId: IdShape;
  start: Nanos;
  end: Nanos;
}

/** Times in microseconds, and whether the span has a parent. */
type Checked = Pick<OtlpSpanParts, 'timestampUs' | 'durationUs'> & { child: boolean };

/** A span's ids and times checked as OTLP requires (an all-zero parent is none), or why it is refused. */
export function checkIdentity(span: SpanIdentity): Checked | string {
  const { parentSpanId } = span;
  const child = parentSpanId.bytes !== 0 && !parentSpanId.zero;
  const idWrong =
    idProblem('traceId', span.traceId, 16) ??
    idProblem('spanId', span.spanId, 8) ??
    (child ? idProblem('parentSpanId', parentSpanId, 8) : undefined);
  if (idWrong) return idWrong;
  const times = spanTimes(span.start, span.end);
  if (typeof times === 'string') return times;
  return { child, timestampUs: times.timestampUs, durationUs: times.durationUs };
}

/** The parts of a span the readers of both encodings produce. */
export interface OtlpSpanParts {
  /** The parent span id in hex; absent for a root span. */
  parentSpanId: string | undefined;
  name: string;
  kind: SpanKind | undefined;
  timestampUs: number;
  durationUs: number;
  tags: Record<string, string>;
  error: boolean;
}

/** What became of a request's spans: those refused one by one are counted, with the first reason. */
export interface OtlpTraceSummary extends SpanSummary {
  rejected: number;
  rejection?: string;
}

/** Spans refused at most this many times in a message; the count says how many there were. */
const SPANS_NAMED = 1;

/**
 * Takes the spans of one request into a batch, refusing each invalid one alone (OTLP's partial success):
 * bad ids or times, a start outside the accepted times, a name the labels refuse.
 */
export class OtlpSpanSink {
  private received = 0;
  private counted = 0;
  private rejected = 0;
  private reasons: string[] = [];

  constructor(
    private readonly routes: ServiceRoutes,
    private readonly batch: BatchAggregate,
  ) {}

  /** A span read as parts, or refused with the reason its reader gave. */
  take(at: SpanAt, service: string | undefined, parts: OtlpSpanParts | string): void {
    if (typeof parts === 'string') this.reject(at, parts);
    else this.add(at, service, parts);
  }

  private reject(at: SpanAt, why: string): void {
    this.received++;
    this.rejected++;
    if (this.reasons.length < SPANS_NAMED)
      this.reasons.push(`resourceSpans[${at[0]}].scopeSpans[${at[1]}].spans[${at[2]}]: ${why}`);
  }

  private add(at: SpanAt, service: string | undefined, parts: OtlpSpanParts): void {
    // Ids are checked by the readers and read by no counting rule: they are not turned into text.
    const span: ZipkinSpan = {
      traceId: '',
      id: '',
      name: parts.name.toLowerCase(),
      timestampUs: parts.timestampUs,
      durationUs: parts.durationUs,
      tags: parts.tags,
    };
    if (parts.parentSpanId !== undefined) span.parentId = parts.parentSpanId;
    if (parts.kind !== undefined) span.kind = parts.kind;
    if (service !== undefined && service !== '') span.serviceName = service.toLowerCase();
    if (parts.error) parts.tags['otel.status_code'] = 'ERROR';
    const observation = spanObservation(span, this.routes);
    if (observation === undefined) {
      this.received++;
      return;
    }
    try {
      this.batch.add(observation);
    } catch (error) {
      if (!(error instanceof TimeOutOfRange || error instanceof LabelRejected)) throw error;
      this.reject(at, error.message);
      return;
    }
    this.received++;
    this.counted++;
  }

  summary(): OtlpTraceSummary {
    const summary: OtlpTraceSummary = {
      received: this.received,
      counted: this.counted,
      rejected: this.rejected,
    };
    if (this.rejected > 0)
      summary.rejection = `${this.rejected} of ${this.received} spans rejected; ${this.reasons.join('; ')}`;
    return summary;
  }
}

/**
 * Bodies past this size have their spans and attributes counted before they are decoded or parsed; smaller
 * ones build tens of MB at most whatever they hold (a span or an attribute takes at least two bytes).
 */
export const COUNT_FIRST_BYTES = 1024 * 1024;

/**
 * Attributes (of resources and spans) per export at most. Real exports of a full body (16 MiB) carry a few
 * hundred thousand; the cap bounds what a body of millions of empty attributes would build (1M built from
 * protobuf take about 60 MB), as MAX_SPANS_PER_BATCH bounds spans.
 */
export const MAX_ATTRIBUTES_PER_EXPORT = 1_000_000;

/**
 * Refuses an export with more than MAX_ATTRIBUTES_PER_EXPORT attributes (OTLP/JSON: objects, two per attribute,
 * about 95 bytes each once parsed), before any is built.
 */
export function checkAttributeCount(count: number, what = 'attributes'): void {
  if (count > MAX_ATTRIBUTES_PER_EXPORT) {
    throw new SpansRejected(
      `${count} ${what} in one request; at most ${MAX_ATTRIBUTES_PER_EXPORT} are accepted: export fewer spans per request`,
      '$',
      413,
      'too_many_values',
    );
  }
}
