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

/**
 * Liveness and readiness, always public. Ready: the store is open, the definitions loaded, and either this
 * process has evaluated or the statuses the last run stored cover every SLO (`statuses` says which).
 */
const health: FastifyPluginAsyncTypebox<HealthParts> = async (app, { storage, evaluator, definitions }) => {
  // Their answers hold counts at most: no fraction for the edge's tidying pass to fix.
  app.get(
    '/healthz',
    { config: { access: 'public', numbersTidied: true }, schema: { response: Health } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    { config: { access: 'public', numbersTidied: true }, schema: { response: Readiness } },
    async (_request, reply) => {
      const lost = storage.problem();
      if (lost !== undefined) return reply.code(503).send({ status: 'storage_lost' as const, reason: lost });
      const evaluated = evaluator.current().length;
      const defined = definitions.registry.definitions.length;
      // Ready on the last run's statuses when they cover every SLO: the gate answers from them, marked.
      const statuses = evaluator.hasEvaluated ? ('evaluated' as const) : ('last_run' as const);
      if (!evaluator.hasEvaluated && evaluated < defined)
        return reply.code(503).send({ status: 'starting' as const, statuses, evaluated, defined });
      return { status: 'ready' as const, statuses, evaluated, defined };
    },
  );
};
export default health;
