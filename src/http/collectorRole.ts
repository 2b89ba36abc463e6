import type { FastifyInstance } from 'fastify';
import type { StorageWatch } from '../store/faults.js';

/** What a collector serves: ingest, liveness and readiness, its own figures and the reload. */
const SERVED = new Set(['/healthz', '/metrics', '/-/reload', '/api/v2/spans', '/v1/traces', '/v1/metrics']);
const INGEST_PREFIX = '/api/v1/ingest/';

/**
 * A collector (`collector.remoteWriteUrl` set) evaluates nothing: SLOs, the gate, alerts, corrections and the
 * dashboard answer 503 `collector_role`; unknown paths stay 404. `/readyz` is ready while the store is open:
 * there is no evaluation to wait for (`defined: 0`, the SLOs this process evaluates).
 */
export function serveAsCollector(app: FastifyInstance, storage: StorageWatch): void {
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined || SERVED.has(route) || route.startsWith(INGEST_PREFIX)) return;
    if (route === '/readyz') {
      if (storage.problem() !== undefined) return;
      return reply.send({ status: 'ready', statuses: 'evaluated', evaluated: 0, defined: 0 });
    }
    return reply.code(503).send({
      error: 'collector_role',
      message:
        'this sloguard is a collector: it ingests and remote-writes counters to the engine; SLOs, the gate, alerts and the dashboard are served by the evaluator (docs/scaling.md)',
    });
  });
}
