import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import type { Sloguard } from '../sloguard.js';
import { recordRoutes } from '../telemetry/tracing.js';
import auth from './auth.js';
import { installErrorHandling } from './errors.js';
import limits, { answerClientError } from './limits.js';
import dashboard from './plugins/dashboard.js';
import gate from './plugins/gate.js';
import health from './plugins/health.js';
import ingest from './plugins/ingest.js';
import metrics from './plugins/metrics.js';
import sloguardPlugin from './plugins/sloguard.js';
import slos from './plugins/slos.js';
import spans from './plugins/spans.js';
import timeseries from './plugins/timeseries.js';

export interface AppOptions {
  logLevel?: string;
}

/** The HTTP API as a fastify instance; `app.inject()` in tests, `listen()` in main. */
export async function buildApp(sloguard: Sloguard, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? sloguard.config.logLevel,
      // Webhook URLs are secrets: alerting logs target names only, and these paths catch any slip.
      redact: [
        'req.headers.authorization',
        'req.headers.cookie',
        'target.url',
        'notifications.targets.*.url',
      ],
    },
    bodyLimit: sloguard.config.maxBodyBytes,
    // Request ids make the log of one CI call easy to follow.
    requestIdHeader: 'x-request-id',
    // A client that trickles its request must not hold a connection for ever.
    requestTimeout: 30_000,
    clientErrorHandler: answerClientError,
  }).setValidatorCompiler(TypeBoxValidatorCompiler);
  installErrorHandling(app);
  if (sloguard.config.tracingUrl) recordRoutes(app);
  // Auth and limits first: their onRoute hooks must see every route registered after them.
  await app.register(auth, { auth: sloguard.config.auth });
  await app.register(limits, { limits: sloguard.config.rateLimits });
  const securityHeaders = helmet({
    hsts: false,
    // Explicit directives: helmet's defaults add upgrade-insecure-requests, which breaks pages on plain HTTP.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
  // Built once: @fastify/helmet rebuilds helmet's middleware (directives parsed again) on every request.
  app.addHook('onRequest', (request, reply, done) =>
    securityHeaders(request.raw, reply.raw, (error) => done(error instanceof Error ? error : undefined)),
  );
  await app.register(sloguardPlugin, { sloguard });
  await app.register(metrics);
  await app.register(health);
  await app.register(slos);
  await app.register(timeseries);
  await app.register(gate);
  await app.register(ingest);
  await app.register(spans);
  await app.register(dashboard);
  return app;
}
