import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config/config.js';
import type { IngestPipeline } from '../../ingest/pipeline.js';
import type { SpanDecoder } from '../../ingest/zipkin/decoder.js';
import { isGzip, takeRawChunks } from '../body.js';
import { IngestErrors, SpansIngested } from '../schemas/ingest.js';
import { decodedSpans } from '../spanDecoding.js';
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
  // Zipkin reads the raw body whatever the content type says; so do we, in the pieces read from the socket.
  takeRawChunks(app, config.maxBodyBytes);

  app.post(
    '/api/v2/spans',
    {
      config: { access: 'ingest' },
      schema: { response: { ...SpansIngested, ...IngestErrors } },
      bodyLimit: config.maxBodyBytes,
    },
    async (request, reply) => {
      const gzip = isGzip(request.headers['content-encoding']);
      const body = (request.body as Buffer[] | undefined) ?? [];
      const protobuf = request.headers['content-type']?.toLowerCase().startsWith(PROTOBUF) === true;
      const batch = pipeline.newBatch();
      // A span list is parsed whole (JSON.parse), at several times its size in memory: inflated, it may be
      // no bigger than the body limit, where a log body (read in pieces) may inflate MAX_GZIP_RATIO times.
      const gzipLimit = gzip ? config.maxBodyBytes : undefined;
      const summary = await decodedSpans(() => decoder.decode(body, protobuf, gzipLimit, batch));
      await submitBatch(pipeline, batch);
      return reply.code(202).send(summary);
    },
  );
};
export default spans;
