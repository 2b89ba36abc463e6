import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Sloguard } from '../sloguard.js';
import { installErrorHandling } from './errors.js';
import dashboard from './plugins/dashboard.js';
import gate from './plugins/gate.js';
import health from './plugins/health.js';
import ingest from './plugins/ingest.js';
import sloguardPlugin from './plugins/sloguard.js';
import slos from './plugins/slos.js';
import timeseries from './plugins/timeseries.js';

export interface AppOptions {
  logLevel?: string;
}

/** The HTTP API as a fastify instance; `app.inject()` in tests, `listen()` in main. */
export async function buildApp(sloguard: Sloguard, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? sloguard.config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
    bodyLimit: sloguard.config.maxBodyBytes,
    // Request ids make the log of one CI call easy to follow.
    requestIdHeader: 'x-request-id',
  }).setValidatorCompiler(TypeBoxValidatorCompiler);
  installErrorHandling(app);
  await app.register(sloguardPlugin, { sloguard });
  await app.register(health);
  await app.register(slos);
  await app.register(timeseries);
  await app.register(gate);
  await app.register(ingest);
  await app.register(dashboard);
  return app;
}
