import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Readiness } from '../schemas/service.js';

/** Liveness and readiness, always public. */
const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { config: { access: 'public' }, schema: { response: Health } }, async () => ({
    status: 'ok' as const,
  }));
  app.get(
    '/readyz',
    { config: { access: 'public' }, schema: { response: Readiness } },
    async (_request, reply) => {
      const lost = app.sloguard.storage.problem();
      if (lost !== undefined) return reply.code(503).send({ status: 'storage_lost' as const, reason: lost });
      const evaluated = app.sloguard.evaluator.current().length;
      const defined = app.sloguard.registry.definitions.length;
      if (evaluated < defined)
        return reply.code(503).send({ status: 'starting' as const, evaluated, defined });
      return { status: 'ready' as const, evaluated, defined };
    },
  );
};
export default health;
