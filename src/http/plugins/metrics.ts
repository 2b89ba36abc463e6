import type { preSerializationHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { SourceKind } from '../../model/observation.js';
import type { SloguardMetrics } from '../../telemetry/metrics.js';
import { HttpError } from '../errors.js';
import { addRouteHook } from '../routeHooks.js';
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

/** Counts what one ingest answer says became of its lines or spans. */
function countAnswer(metrics: SloguardMetrics, source: SourceKind, payload: IngestAnswer): void {
  if (payload.error !== undefined) {
    metrics.countIngest(source, 'rejected', 1);
    metrics.countRejected(source, payload.error, 1);
    return;
  }
  metrics.countIngest(source, 'accepted', payload.accepted ?? payload.received ?? 0);
  metrics.countIngest(source, 'rejected', payload.rejected ?? 0);
  metrics.countIngest(source, 'skipped', payload.skipped ?? 0);
  for (const [reason, lines] of Object.entries(payload.reasons ?? {}))
    metrics.countRejected(source, reason, lines);
}

/**
 * `GET /metrics` in the Prometheus text format. Ingest outcomes are counted from the answers the ingest routes
 * give (the documented summaries and error codes), so the routes stay free of metrics code.
 */
export default fp<{ metrics: SloguardMetrics }>(
  async (app, { metrics }) => {
    // A hook of the ingest routes only: the other routes' answers are not counted, and pay nothing.
    const count: preSerializationHookHandler<unknown> = (request, _reply, payload, done) => {
      const source = INGEST_ROUTES[request.routeOptions.url ?? ''];
      if (source && typeof payload === 'object' && payload !== null)
        countAnswer(metrics, source, payload as IngestAnswer);
      done(null, payload);
    };
    app.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (route.url === undefined || !Object.hasOwn(INGEST_ROUTES, route.url) || !methods.includes('POST'))
        return;
      addRouteHook(route, 'preSerialization', count);
    });

    app.get(
      '/metrics',
      { config: { access: 'metrics' }, schema: { response: Metrics } },
      async (_request, reply) => {
        const text = metrics.scrape();
        if (text === undefined)
          throw new HttpError(
            503,
            'scrapes_busy',
            'as many scrapes of /metrics as allowed are being answered already; scrape again shortly',
            undefined,
            { 'retry-after': '1' },
          );
        return reply.type(metrics.registry.contentType).send(text);
      },
    );
  },
  { name: 'metrics' },
);
