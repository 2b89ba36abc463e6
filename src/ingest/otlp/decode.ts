import type { BatchAggregate } from '../aggregate.js';
import type { ServiceRoutes } from '../routeTemplates.js';
import { readJsonTraces } from './jsonSpans.js';
import { readProtoTraces } from './protoSpans.js';
import { OtlpSpanSink, type OtlpTraceSummary } from './spans.js';

/**
 * Folds the spans of an OTLP ExportTraceServiceRequest (protobuf, or OTLP/JSON) into `batch`. Invalid spans are
 * refused one by one and counted in the summary; a body that cannot be read at all throws SpansRejected.
 */
export function observeOtlpTraces(
  body: Buffer,
  protobuf: boolean,
  routes: ServiceRoutes,
  batch: BatchAggregate,
): OtlpTraceSummary {
  const sink = new OtlpSpanSink(routes, batch);
  if (protobuf) readProtoTraces(body, sink);
  else readJsonTraces(body, sink);
  return sink.summary();
}
