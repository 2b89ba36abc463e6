import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CurrentRegistry } from '../../definitions/registry.js';
import type { SloEvaluator } from '../../schedule/scheduler.js';
import type { StorageWatch } from '../../store/faults.js';
import { Health, Readiness } from '../schemas/service.js';

export interface HealthParts {
  storage: StorageWatch;
  evaluator: SloEvaluator;
  definitions: CurrentRegistry;
}

/** Liveness and readiness, always public. */
const health: FastifyPluginAsyncTypebox<HealthParts> = async (app, { storage, evaluator, definitions }) => {
  app.get('/healthz', { config: { access: 'public' }, schema: { response: Health } }, async () => ({
    status: 'ok' as const,
  }));
  app.get(
    '/readyz',
    { config: { access: 'public' }, schema: { response: Readiness } },
    async (_request, reply) => {
      const lost = storage.problem();
      if (lost !== undefined) return reply.code(503).send({ status: 'storage_lost' as const, reason: lost });
      const evaluated = evaluator.current().length;
      const defined = definitions.registry.definitions.length;
      if (evaluated < defined)
        return reply.code(503).send({ status: 'starting' as const, evaluated, defined });
      return { status: 'ready' as const, evaluated, defined };
    },
  );
};
export default health;
