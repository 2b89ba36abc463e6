import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import { encodeRpcStatus, encodeTraceAnswer, rpcCode, traceAnswer } from '../../ingest/otlp/answer.js';
import type { IngestPipeline } from '../../ingest/pipeline.js';
import type { SpanDecoder } from '../../ingest/zipkin/decoder.js';
import type { SloguardMetrics } from '../../telemetry/metrics.js';
import { isGzip, takeRawBodies } from '../body.js';
import { type ErrorBody, HttpError } from '../errors.js';
import { TracesExported } from '../schemas/otlp.js';
import { decodedSpans } from '../spanDecoding.js';
import { submitBatch } from '../submit.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

export interface OtlpIngestParts {
  config: Pick<Config, 'maxBodyBytes'>;
  pipeline: IngestPipeline;
  spans: SpanDecoder;
  metrics: SloguardMetrics;
}

const contentType = (request: FastifyRequest) => request.headers['content-type']?.toLowerCase() ?? '';
const isProtobuf = (request: FastifyRequest) => contentType(request).startsWith(PROTOBUF);

/**
 * OTLP/HTTP receivers (opentelemetry-specification, protocol/otlp.md) on the Zipkin listener: `POST /v1/traces`
 * takes an ExportTraceServiceRequest in protobuf or OTLP/JSON, gzip'ed or not, and answers in the request's
 * encoding: 200 with an ExportTraceServiceResponse (partial success when spans were refused one by one), and
 * every error as a google.rpc.Status (in JSON, beside the API's own error fields), with Retry-After on 429/503.
 * Spans are parsed as Zipkin's are (the same threads, caps, times and counting rules).
 */
const otlp: FastifyPluginAsync<OtlpIngestParts> = async (app, { config, pipeline, spans, metrics }) => {
  takeRawBodies(app, config.maxBodyBytes);

  // Errors of any stage (auth, rate limit, body limit, parsing, storage) leave in OTLP's Status shape.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
    const error = JSON.parse(payload) as ErrorBody;
    metrics.countIngest('traces', 'rejected', 1);
    metrics.countRejected('traces', error.error, 1);
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
      const protobuf = isProtobuf(request);
      if (!protobuf && !contentType(request).startsWith(JSON_TYPE)) {
        throw new HttpError(
          415,
          'unsupported_media_type',
          `Content-Type must be ${PROTOBUF} or ${JSON_TYPE}, not "${contentType(request)}"`,
          'content-type',
        );
      }
      const gzip = isGzip(request.headers['content-encoding']);
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      const batch = pipeline.newBatch();
      // A body is parsed whole, so inflated it may be no bigger than the body limit (as a Zipkin list).
      const gzipLimit = gzip ? config.maxBodyBytes : undefined;
      const summary = await decodedSpans(() => spans.decodeOtlp(body, protobuf, gzipLimit, batch));
      await submitBatch(pipeline, batch);
      metrics.countIngest('traces', 'accepted', summary.received - summary.rejected);
      metrics.countIngest('traces', 'rejected', summary.rejected);
      metrics.countRejected('traces', 'invalid_span', summary.rejected);
      const answer = traceAnswer(summary);
      if (protobuf) return reply.type(PROTOBUF).send(encodeTraceAnswer(answer));
      return reply.type(JSON_TYPE).send(answer);
    },
  );
};
export default otlp;
