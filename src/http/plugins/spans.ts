import type { FastifyPluginAsync } from 'fastify';
import type { SpanSummary } from '../../ingest/zipkin/observe.js';
import { SpansRejected } from '../../ingest/zipkin/span.js';
import { decodeBody, takeRawBodies } from '../body.js';
import { HttpError } from '../errors.js';
import { submitBatch } from '../submit.js';

const PROTOBUF = 'application/x-protobuf';

/**
 * `POST /api/v2/spans`, Zipkin's collector contract: a JSON_V2 list for any content type but protobuf (browsers
 * send text/plain via sendBeacon), proto3 ListOfSpans for application/x-protobuf, gzip for both. The batch is
 * accepted (202, once committed) or refused whole (400 with Zipkin's message).
 */
const spans: FastifyPluginAsync = async (app) => {
  const { config, pipeline, spans: decoder } = app.sloguard;
  // Zipkin reads the raw body whatever the content type says; so do we.
  takeRawBodies(app, config.maxBodyBytes);

  app.post('/api/v2/spans', { bodyLimit: config.maxBodyBytes }, async (request, reply) => {
    const body = decodeBody(
      request.body as Buffer | undefined,
      request.headers['content-encoding'],
      config.maxBodyBytes,
    );
    const protobuf = request.headers['content-type']?.toLowerCase().startsWith(PROTOBUF) === true;
    const batch = pipeline.newBatch();
    let summary: SpanSummary;
    try {
      summary = await decoder.decode(body, protobuf, batch);
    } catch (error) {
      if (error instanceof SpansRejected) throw new HttpError(400, error.code, error.message, error.path);
      throw error;
    }
    await submitBatch(pipeline, batch);
    return reply.code(202).send(summary);
  });
};
export default spans;
