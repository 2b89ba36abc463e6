import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config/config.js';
import type { IngestPipeline } from '../../ingest/pipeline.js';
import type { SpanDecoder } from '../../ingest/zipkin/decoder.js';
import type { SpanSummary } from '../../ingest/zipkin/observe.js';
import { SpansRejected } from '../../ingest/zipkin/span.js';
import { WorkerLost } from '../../workers.js';
import { isGzip, takeRawBodies } from '../body.js';
import { HttpError } from '../errors.js';
import { IngestErrors, SpansIngested } from '../schemas/ingest.js';
import { submitBatch } from '../submit.js';

const PROTOBUF = 'application/x-protobuf';

/**
 * `POST /api/v2/spans`, Zipkin's collector contract: a JSON_V2 list for any content type but protobuf (browsers
 * send text/plain via sendBeacon), proto3 ListOfSpans for application/x-protobuf, gzip for both. The batch is
 * accepted (202, once committed) or refused whole (400 with Zipkin's message).
 */
export interface SpanIngestParts {
  config: Pick<Config, 'maxBodyBytes'>;
  pipeline: IngestPipeline;
  spans: SpanDecoder;
}

const spans: FastifyPluginAsync<SpanIngestParts> = async (app, { config, pipeline, spans: decoder }) => {
  // Zipkin reads the raw body whatever the content type says; so do we.
  takeRawBodies(app, config.maxBodyBytes);

  app.post(
    '/api/v2/spans',
    {
      config: { access: 'ingest' },
      schema: { response: { ...SpansIngested, ...IngestErrors } },
      bodyLimit: config.maxBodyBytes,
    },
    async (request, reply) => {
      const gzip = isGzip(request.headers['content-encoding']);
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      const protobuf = request.headers['content-type']?.toLowerCase().startsWith(PROTOBUF) === true;
      const batch = pipeline.newBatch();
      let summary: SpanSummary;
      try {
        // A span list is parsed whole (JSON.parse), at several times its size in memory: inflated, it may be
        // no bigger than the body limit, where a log body (read in pieces) may inflate MAX_GZIP_RATIO times.
        summary = await decoder.decode(body, protobuf, gzip ? config.maxBodyBytes : undefined, batch);
      } catch (error) {
        if (error instanceof SpansRejected)
          throw new HttpError(error.status, error.code, error.message, error.path);
        // Nothing of the batch was counted and a new thread has started: the reporter may send it again.
        if (error instanceof WorkerLost) {
          throw new HttpError(
            503,
            'parser_restarted',
            `the thread parsing this batch stopped (${error.message}); nothing of it was stored, send it again`,
            undefined,
            { 'retry-after': '1' },
          );
        }
        throw error;
      }
      await submitBatch(pipeline, batch);
      return reply.code(202).send(summary);
    },
  );
};
export default spans;
