import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

/** Liveness and readiness, always public. */
const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { access: 'public' } }, async (_request, reply) => {
    const lost = app.sloguard.storage.problem();
    if (lost !== undefined) return reply.code(503).send({ status: 'storage_lost', reason: lost });
    const evaluated = app.sloguard.evaluator.current().length;
    const defined = app.sloguard.registry.definitions.length;
    if (evaluated < defined) return reply.code(503).send({ status: 'starting', evaluated, defined });
    return { status: 'ready', evaluated, defined };
  });
};
export default health;
