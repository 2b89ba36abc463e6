import fp from 'fastify-plugin';
import type { SourceKind } from '../../model/observation.js';
import type { SloguardMetrics } from '../../telemetry/metrics.js';
import { Metrics } from '../schemas/service.js';

/** The ingest routes, by the source kind they feed. */
const INGEST_ROUTES: Record<string, SourceKind> = {
  '/api/v1/ingest/lb': 'loadbalancer',
  '/api/v2/spans': 'traces',
};

interface IngestAnswer {
  /** Access-log summary. */
  accepted?: number;
  rejected?: number;
  skipped?: number;
  /** Rejected lines by reason. */
  reasons?: Record<string, number>;
  /** Zipkin summary. */
  received?: number;
  /** The error shape: the whole batch was refused. */
  error?: string;
}

/**
 * `GET /metrics` in the Prometheus text format. Ingest outcomes are counted from the answers the ingest routes
 * give (the documented summaries and error codes), so the routes stay free of metrics code.
 */
export default fp<{ metrics: SloguardMetrics }>(
  async (app, { metrics }) => {
    app.addHook('preSerialization', async (request, _reply, payload: IngestAnswer) => {
      const source = INGEST_ROUTES[request.routeOptions.url ?? ''];
      if (!source || request.method !== 'POST' || typeof payload !== 'object' || payload === null)
        return payload;
      if (payload.error !== undefined) {
        metrics.countIngest(source, 'rejected', 1);
        metrics.countRejected(source, payload.error, 1);
        return payload;
      }
      metrics.countIngest(source, 'accepted', payload.accepted ?? payload.received ?? 0);
      metrics.countIngest(source, 'rejected', payload.rejected ?? 0);
      metrics.countIngest(source, 'skipped', payload.skipped ?? 0);
      for (const [reason, lines] of Object.entries(payload.reasons ?? {}))
        metrics.countRejected(source, reason, lines);
      return payload;
    });

    app.get(
      '/metrics',
      { config: { access: 'metrics' }, schema: { response: Metrics } },
      async (_request, reply) => {
        const text = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );
  },
  { name: 'metrics' },
);
