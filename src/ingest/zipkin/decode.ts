import type { CountingRule } from '../../definitions/eventRules.js';
import { BatchAggregate, type SeriesDelta } from '../aggregate.js';
import { ServiceRoutes } from '../routes.js';
import type { TimeRange } from '../timeRange.js';
import { decodeJsonSpans } from './json.js';
import { observeSpans, type SpanSummary } from './observe.js';
import { decodeProtoSpans } from './proto.js';
import { SpansRejected, type SpansRejectedCode } from './span.js';

/** What a parsing thread knows once: each service's route templates and the latency thresholds SLOs declare. */
export interface SpanDecodeSetup {
  templates: Record<string, readonly string[]>;
  thresholdsUs: readonly number[];
  countingRules: readonly CountingRule[];
}

export interface SpanDecodeRequest {
  body: Uint8Array;
  protobuf: boolean;
  /** The times the request's batch accepts. */
  accepted: TimeRange;
}

/** A batch's bucket sums, or Zipkin's reason for refusing it whole. */
export type SpanDecodeAnswer =
  | { summary: SpanSummary; series: Map<string, SeriesDelta>; observations: number }
  | { rejected: { message: string; path: string; code: SpansRejectedCode } };

/** Decodes one request body (JSON_V2 or proto3) and folds its spans into `batch`; throws SpansRejected. */
export function decodeSpansInto(
  body: Buffer,
  protobuf: boolean,
  routes: ServiceRoutes,
  batch: BatchAggregate,
): SpanSummary {
  const spans = protobuf ? decodeProtoSpans(body) : decodeJsonSpans(body);
  return observeSpans(spans, routes, batch);
}

/** The parsing thread's work: the same decoding, answered as plain data that crosses threads. */
export function spanDecoderFor(setup: SpanDecodeSetup): (request: SpanDecodeRequest) => SpanDecodeAnswer {
  const routes = new ServiceRoutes((service) => setup.templates[service] ?? []);
  return ({ body, protobuf, accepted }) => {
    const batch = new BatchAggregate(setup.thresholdsUs, accepted, setup.countingRules);
    try {
      const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const summary = decodeSpansInto(bytes, protobuf, routes, batch);
      return { summary, series: batch.series, observations: batch.observations };
    } catch (error) {
      if (error instanceof SpansRejected)
        return { rejected: { message: error.message, path: error.path, code: error.code } };
      throw error;
    }
  };
}
