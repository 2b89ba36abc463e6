import fp from 'fastify-plugin';
import type { Sloguard } from '../../sloguard.js';

declare module 'fastify' {
  interface FastifyInstance {
    sloguard: Sloguard;
  }
}

/** Shares the wired domain services with every route plugin. */
export default fp<{ sloguard: Sloguard }>(
  async (app, options) => {
    app.decorate('sloguard', options.sloguard);
  },
  { name: 'sloguard' },
);
