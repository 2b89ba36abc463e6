import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Config } from '../../config/config.js';
import { labelProblem } from '../../ingest/labels.js';
import { LOG_FORMATS, logFormatNames } from '../../ingest/loadbalancer/formats.js';
import { ingestChunks } from '../../ingest/loadbalancer/lines.js';
import type { IngestPipeline } from '../../ingest/pipeline.js';
import type { ServiceRoutes } from '../../ingest/routeTemplates.js';
import { bodyChunks, takeRawBodies } from '../body.js';
import { HttpError } from '../errors.js';
import { IngestErrors, LinesIngested } from '../schemas/ingest.js';
import { submitBatch } from '../submit.js';

const IngestQuery = Type.Object({
  format: Type.String(),
  source: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  /** Which status counts: what the LB sent the client (default), or what the target answered. */
  status: Type.Optional(Type.Union([Type.Literal('edge'), Type.Literal('target')])),
});

/** `POST /api/v1/ingest/lb`: access-log lines in, 202 once committed, with counts and the lines refused. */
export interface LogIngestParts {
  /** Read at each request: a reload changes the source mappings in place. */
  config: Pick<Config, 'maxBodyBytes' | 'sources'>;
  pipeline: IngestPipeline;
  routes: ServiceRoutes;
}

const ingest: FastifyPluginAsyncTypebox<LogIngestParts> = async (app, { config, pipeline, routes }) => {
  // Log lines arrive as whatever curl or a shipper sends (text, form-encoded, octet-stream): take raw bytes.
  takeRawBodies(app, config.maxBodyBytes);

  app.post(
    '/api/v1/ingest/lb',
    {
      config: { access: 'ingest' },
      schema: { querystring: IngestQuery, response: { ...LinesIngested, ...IngestErrors } },
      bodyLimit: config.maxBodyBytes,
    },
    async (request, reply) => {
      const { format, service, status: statusFrom } = request.query;
      for (const field of ['source', 'service'] as const) {
        const problem = labelProblem(request.query[field] ?? '');
        if (problem) throw new HttpError(400, 'invalid_query', `${field} ${problem}`, field);
      }
      const parse = LOG_FORMATS[format];
      if (!parse) {
        throw new HttpError(
          400,
          'invalid_query',
          `unknown format "${format}"; allowed: ${logFormatNames().join(', ')}`,
          'format',
        );
      }
      const source = request.query.source ?? format;
      const settings = config.sources[source];
      if (!service && !settings?.service && !settings?.hosts) {
        throw new HttpError(
          400,
          'invalid_query',
          `no service for source "${source}": pass service= or map the source in sloguard.yaml`,
          'service',
        );
      }
      const body = bodyChunks(
        request.body as Buffer | undefined,
        request.headers['content-encoding'],
        config.maxBodyBytes,
      );
      const batch = pipeline.newBatch();
      // In slices, inflating as it goes: a big body never holds the event loop for more than a slice.
      const summary = await ingestChunks(
        body,
        parse,
        { source, service, settings, routes, statusFrom },
        batch,
      );
      await submitBatch(pipeline, batch);
      return reply.code(202).send(summary);
    },
  );
};
export default ingest;
