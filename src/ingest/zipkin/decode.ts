import { gunzipSync } from 'node:zlib';
import type { CountingRule } from '../../model/eventRules.js';
import { BatchAggregate } from '../aggregate.js';
import { observeOtlpTraces } from '../otlp/decode.js';
import { ServiceRoutes } from '../routeTemplates.js';
import type { TimeRange } from '../timeRange.js';
import { decodeJsonSpans } from './json.js';
import { observeSpans, type SpanSummary } from './observe.js';
import { type PackedSeries, packSeries } from './packed.js';
import { decodeProtoSpans } from './proto.js';
import { SpansRejected, type SpansRejectedCode } from './span.js';

/** What a parsing thread knows once: each service's route templates and the latency thresholds SLOs declare. */
export interface SpanDecodeSetup {
  templates: Record<string, readonly string[]>;
  thresholdsUs: readonly number[];
  countingRules: readonly CountingRule[];
}

export interface SpanDecodeRequest {
  /** The body in the pieces it was read in (their memory moved here), joined by the thread. */
  body: Uint8Array[];
  protobuf: boolean;
  /** The times the request's batch accepts. */
  accepted: TimeRange;
  /** Inflated by the parsing thread, within this many bytes; undefined when not gzip'ed. */
  gzipLimit?: number | undefined;
  /** An OTLP ExportTraceServiceRequest rather than a Zipkin list (otlp/decode.ts). */
  otlp?: boolean | undefined;
}

/** A batch's bucket sums, packed (its memory transferred), or Zipkin's reason for refusing it whole. */
export type SpanDecodeAnswer =
  | { summary: SpanSummary; packed: PackedSeries }
  | { rejected: { message: string; path: string; status: number; code: SpansRejectedCode } };

/** The memory an answer moves to the event loop rather than copies: its packed sums. */
export function memoryOfAnswer(answer: SpanDecodeAnswer): ArrayBuffer[] {
  return 'packed' in answer ? [answer.packed.sums.buffer] : [];
}

/** Undoes gzip within `limit` bytes; a bomb or a bad stream refuses the batch. */
function inflate(body: Buffer, limit: number): Buffer {
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new SpansRejected(
        `decompressed body exceeds ${limit} bytes; send smaller batches`,
        '$',
        413,
        'body_too_large',
      );
    }
    throw new SpansRejected(`body is not valid gzip: ${(error as Error).message}`, '$', 400, 'invalid_gzip');
  }
}

/**
 * Decodes one request body (JSON_V2 or proto3, gzip'ed when `gzipLimit` is set) and folds its spans into
 * `batch`; throws SpansRejected. With `otlp`, the body is an OTLP export whose invalid spans are refused one by
 * one (counted in the summary).
 */
export function decodeSpansInto(
  wire: Buffer,
  protobuf: boolean,
  gzipLimit: number | undefined,
  routes: ServiceRoutes,
  batch: BatchAggregate,
  otlp = false,
): SpanSummary {
  const body = gzipLimit === undefined ? wire : inflate(wire, gzipLimit);
  if (otlp) return observeOtlpTraces(body, protobuf, routes, batch);
  const spans = protobuf ? decodeProtoSpans(body) : decodeJsonSpans(body);
  return observeSpans(spans, routes, batch);
}

/** The parsing thread's work: the same decoding, answered as plain data that crosses threads. */
export function spanDecoderFor(setup: SpanDecodeSetup): (request: SpanDecodeRequest) => SpanDecodeAnswer {
  const routes = new ServiceRoutes((service) => setup.templates[service] ?? []);
  return ({ body, protobuf, accepted, gzipLimit, otlp }) => {
    const batch = new BatchAggregate(setup.thresholdsUs, accepted, setup.countingRules);
    try {
      const bytes =
        body.length === 1
          ? Buffer.from(body[0]!.buffer, body[0]!.byteOffset, body[0]!.byteLength)
          : Buffer.concat(body);
      const summary = decodeSpansInto(bytes, protobuf, gzipLimit, routes, batch, otlp);
      return { summary, packed: packSeries(batch.series, batch.observations) };
    } catch (error) {
      if (error instanceof SpansRejected) {
        const { message, path, status, code } = error;
        return { rejected: { message, path, status, code } };
      }
      throw error;
    }
  };
}
