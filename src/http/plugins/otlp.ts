import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import {
  encodeExportAnswer,
  encodeRpcStatus,
  exportAnswer,
  type Refused,
  rpcCode,
  type Signal,
} from '../../ingest/otlp/answer.js';
import { MetricsRejected } from '../../ingest/otlp/metricReading.js';
import { MetricStreams } from '../../ingest/otlp/metricStreams.js';
import { OtlpMetricSink } from '../../ingest/otlp/metrics.js';
import { MetricDecoder, type ReadPoints } from '../../ingest/otlp/metricsDecoder.js';
import type { IngestPipeline } from '../../ingest/pipeline.js';
import type { ServiceRoutes } from '../../ingest/routeTemplates.js';
import type { SpanDecoder } from '../../ingest/zipkin/decoder.js';
import type { SourceKind } from '../../model/observation.js';
import type { SloguardMetrics } from '../../telemetry/metrics.js';
import { bodyChunks, isGzip, takeRawChunks } from '../body.js';
import { type ErrorBody, HttpError } from '../errors.js';
import { MetricsExported, TracesExported } from '../schemas/otlp.js';
import { decodedSpans } from '../spanDecoding.js';
import { submitBatch } from '../submit.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const METRICS_ROUTE = '/v1/metrics';

export interface OtlpIngestParts {
  config: Pick<Config, 'maxBodyBytes'>;
  pipeline: IngestPipeline;
  spans: SpanDecoder;
  metrics: SloguardMetrics;
  routes: ServiceRoutes;
}

const contentType = (request: FastifyRequest) => request.headers['content-type']?.toLowerCase() ?? '';
const isProtobuf = (request: FastifyRequest) => contentType(request).startsWith(PROTOBUF);
const sourceOf = (request: FastifyRequest): SourceKind =>
  request.routeOptions.url === METRICS_ROUTE ? 'otlp-metrics' : 'traces';

/** Whether the body is protobuf (true) or OTLP/JSON (false); any other type is refused (415). */
function protobufBody(request: FastifyRequest): boolean {
  const protobuf = isProtobuf(request);
  if (!protobuf && !contentType(request).startsWith(JSON_TYPE)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Content-Type must be ${PROTOBUF} or ${JSON_TYPE}, not "${contentType(request)}"`,
      'content-type',
    );
  }
  return protobuf;
}

/** The body as the pieces read from the socket (none when it is empty). */
const bodyPieces = (request: FastifyRequest) => (request.body as Buffer[] | undefined) ?? [];

/**
 * The metrics body joined, inflated on libuv's threads when gzip'ed, refused (413) past the body limit, as a
 * span list is.
 */
async function inflatedBody(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  const body = Buffer.concat(bodyPieces(request));
  if (!isGzip(request.headers['content-encoding'])) return body;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of bodyChunks(body, 'gzip', maxBytes)) {
    bytes += chunk.length;
    if (bytes > maxBytes)
      throw new HttpError(
        413,
        'body_too_large',
        `decompressed body exceeds ${maxBytes} bytes; export fewer data points per request`,
      );
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The export's answer in the request's encoding. */
function answer(reply: FastifyReply, protobuf: boolean, signal: Signal, refused: Refused) {
  if (protobuf) return reply.type(PROTOBUF).send(encodeExportAnswer(signal, refused));
  return reply.type(JSON_TYPE).send(exportAnswer(signal, refused));
}

/**
 * OTLP/HTTP receivers (opentelemetry-specification, protocol/otlp.md) on the Zipkin listener: `POST /v1/traces`
 * takes an ExportTraceServiceRequest and `POST /v1/metrics` an ExportMetricsServiceRequest, in protobuf or
 * OTLP/JSON, gzip'ed or not, and answer in the request's encoding: 200 with an Export…ServiceResponse (partial
 * success when spans or data points were refused one by one), and every error as a google.rpc.Status (in JSON,
 * beside the API's own error fields), with Retry-After on 429/503. Spans are parsed as Zipkin's are (the same
 * threads, caps, times and counting rules); metrics as docs/otlp.md says.
 */
const otlp: FastifyPluginAsync<OtlpIngestParts> = async (
  app,
  { config, pipeline, spans, metrics, routes },
) => {
  // Bodies arrive as the socket's pieces, unjoined: a span export's pieces move to a parsing thread as they
  // are (as a Zipkin list's do), so the event loop neither copies them into one buffer nor collects that copy.
  takeRawChunks(app, config.maxBodyBytes);
  const streams = new MetricStreams();
  const reader = new MetricDecoder();
  app.addHook('onClose', () => reader.close());
  /** Counts what an export took and refused one by one. */
  const countExport = (source: SourceKind, summary: Refused & { received: number }, reason: string) => {
    metrics.countIngest(source, 'accepted', summary.received - summary.rejected);
    metrics.countIngest(source, 'rejected', summary.rejected);
    metrics.countRejected(source, reason, summary.rejected);
  };
  /** Thresholds already logged as falling inside an OTLP bucket. */
  const interpolated = new Set<number>();

  // Errors of any stage (auth, rate limit, body limit, parsing, storage) leave in OTLP's Status shape.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
    const error = JSON.parse(payload) as ErrorBody;
    metrics.countIngest(sourceOf(request), 'rejected', 1);
    metrics.countRejected(sourceOf(request), error.error, 1);
    const code = rpcCode(reply.statusCode);
    if (isProtobuf(request)) {
      reply.type(PROTOBUF);
      return encodeRpcStatus(code, `${error.error}: ${error.message}`);
    }
    reply.type(JSON_TYPE);
    return JSON.stringify({ code, ...error });
  });

  app.post(
    '/v1/traces',
    {
      config: { access: 'ingest' },
      schema: { response: TracesExported },
      bodyLimit: config.maxBodyBytes,
    },
    async (request, reply) => {
      const protobuf = protobufBody(request);
      const gzip = isGzip(request.headers['content-encoding']);
      const batch = pipeline.newBatch();
      // A body is parsed whole, so inflated it may be no bigger than the body limit (as a Zipkin list).
      const gzipLimit = gzip ? config.maxBodyBytes : undefined;
      const summary = await decodedSpans(() =>
        spans.decodeOtlp(bodyPieces(request), protobuf, gzipLimit, batch),
      );
      await submitBatch(pipeline, batch);
      countExport('traces', summary, 'invalid_span');
      return answer(reply, protobuf, 'traces', summary);
    },
  );

  app.post(
    METRICS_ROUTE,
    {
      config: { access: 'ingest' },
      schema: { response: MetricsExported },
      bodyLimit: config.maxBodyBytes,
    },
    async (request, reply) => {
      const protobuf = protobufBody(request);
      const body = await inflatedBody(request, config.maxBodyBytes);
      let points: ReadPoints;
      try {
        points = await decodedSpans(() => reader.read(body, protobuf));
      } catch (error) {
        if (error instanceof MetricsRejected)
          throw new HttpError(error.status, error.code, error.message, error.path);
        throw error;
      }
      const batch = pipeline.newBatch();
      const nowMs = Date.now();
      streams.evict(nowMs);
      const sink = new OtlpMetricSink(streams, routes, batch, nowMs);
      let summary: Awaited<ReturnType<OtlpMetricSink['countAll']>>;
      try {
        summary = await sink.countAll(points);
        await submitBatch(pipeline, batch);
      } catch (error) {
        // Nothing of the export was stored: the streams are as before it, so a retry counts it once.
        sink.undo();
        throw error;
      }
      for (const [thresholdUs, [lowerBoundUs, upperBoundUs]] of summary.interpolated) {
        if (interpolated.has(thresholdUs)) continue;
        interpolated.add(thresholdUs);
        request.log.info(
          { thresholdUs, lowerBoundUs, upperBoundUs },
          'latency threshold inside an OTLP histogram bucket: estimated by linear interpolation inside it',
        );
      }
      countExport('otlp-metrics', summary, 'invalid_data_point');
      return answer(reply, protobuf, 'metrics', summary);
    },
  );
};
export default otlp;
