import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CurrentRegistry } from '../../definitions/registry.js';
import type { SloEvaluator } from '../../evaluate/scheduler.js';
import type { StorageWatch } from '../../store/faults.js';

export interface HealthParts {
  storage: StorageWatch;
  evaluator: SloEvaluator;
  definitions: CurrentRegistry;
}

/** Liveness and readiness, always public. */
const health: FastifyPluginAsyncTypebox<HealthParts> = async (app, { storage, evaluator, definitions }) => {
  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { access: 'public' } }, async (_request, reply) => {
    const lost = storage.problem();
    if (lost !== undefined) return reply.code(503).send({ status: 'storage_lost', reason: lost });
    const evaluated = evaluator.current().length;
    const defined = definitions.registry.definitions.length;
    if (evaluated < defined) return reply.code(503).send({ status: 'starting', evaluated, defined });
    return { status: 'ready', evaluated, defined };
  });
};
export default health;
