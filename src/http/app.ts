import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type preSerializationHookHandler,
  type RouteOptions,
} from 'fastify';
import type { Config } from '../config/config.js';
import { tidyNumbers } from '../evaluate/numbers.js';
import type { SloguardMetrics } from '../telemetry/metrics.js';
import { recordRoutes } from '../telemetry/tracing.js';
import auth from './auth.js';
import contract from './contract.js';
import { installErrorHandling } from './errors.js';
import limits, { answerClientError } from './limits.js';
import { boundPipelining } from './pipelining.js';
import breakdown, { type BreakdownParts } from './plugins/breakdown.js';
import corrections, { type CorrectionParts } from './plugins/corrections.js';
import dashboard from './plugins/dashboard.js';
import gate, { type GateRouteParts } from './plugins/gate.js';
import health, { type HealthParts } from './plugins/health.js';
import incidents, { type IncidentParts } from './plugins/incidents.js';
import ingest, { type LogIngestParts } from './plugins/ingest.js';
import metrics from './plugins/metrics.js';
import otlp from './plugins/otlp.js';
import reloadRoute, { type ReloadResult } from './plugins/reload.js';
import slos from './plugins/slos.js';
import spans, { type SpanIngestParts } from './plugins/spans.js';
import timeseries, { type TimeseriesParts } from './plugins/timeseries.js';
import { addRouteHook } from './routeHooks.js';
import { securityHeaders } from './securityHeaders.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
}

const isString = (schema: JsonSchema): boolean =>
  schema.type === 'string' || (schema.anyOf?.every(isString) ?? false);

/**
 * TypeBox's compiler converts query strings and path parameters to the schema's types before checking them
 * (it leaves bodies alone). For a schema of strings only, converting changes nothing and cost the gate 7 µs of
 * a 120 µs answer: such parts are checked as a body is.
 */
const validatorCompiler: typeof TypeBoxValidatorCompiler = (route) => {
  const schema = route.schema as JsonSchema;
  const stringsOnly = schema.type === 'object' && Object.values(schema.properties ?? {}).every(isString);
  return TypeBoxValidatorCompiler(stringsOnly ? { ...route, httpPart: 'body' } : route);
};

/**
 * One line per request, at debug level, when it is answered: fastify writes two at info, which cost a gate
 * answer a fifth of its CPU. As in Prometheus, info is for what the service does, not for every request it
 * answers; the gate's decisions are in the audit trail. Failed responses are logged as fastify does.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    request.log.debug(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        responseTimeMs: reply.elapsedTime,
      },
      'request completed',
    );
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route's JSON answers hold only numbers already tidied where they are built (the gate's answer): the
     * edge's tidying pass, a copy of the whole answer, is skipped.
     */
    numbersTidied?: boolean;
  }
}

const tidy: preSerializationHookHandler<unknown> = (_request, _reply, payload, done) =>
  done(null, tidyNumbers(payload));

/**
 * One number formatter at the edge: no JSON answer shows float noise (an objective of 0.9990000000000001).
 * A hook of each route that does not tidy its numbers itself; register before the routes.
 */
function tidyAnswers(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.config?.numbersTidied) addRouteHook(route, 'preSerialization', tidy);
  });
}

export interface AppOptions {
  /** What `POST /-/reload` runs; without it the route is absent (an app built for one test). */
  reload?: () => Promise<ReloadResult>;
}

/** What the routes use; each plugin is handed its own part of it. */
export interface AppParts
  extends HealthParts,
    TimeseriesParts,
    Omit<BreakdownParts, 'links'>,
    GateRouteParts,
    CorrectionParts,
    LogIngestParts,
    SpanIngestParts,
    Omit<IncidentParts, 'definitions' | 'times'> {
  config: Config;
  /** The service's log (made first, with its redaction): fastify writes through it. */
  log: FastifyBaseLogger;
  metrics: SloguardMetrics;
}

/** The HTTP API as a fastify instance; `app.inject()` in tests, `listen()` in the service. */
export async function buildApp(parts: AppParts, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = parts;
  const app = Fastify({
    loggerInstance: parts.log,
    logController: new RequestLog(),
    bodyLimit: config.maxBodyBytes,
    // Request ids make the log of one CI call easy to follow.
    requestIdHeader: 'x-request-id',
    // A client that trickles its request must not hold a connection for ever.
    requestTimeout: 30_000,
    clientErrorHandler: answerClientError,
  }).setValidatorCompiler(validatorCompiler);
  installErrorHandling(app);
  boundPipelining(app);
  if (config.tracingUrl) recordRoutes(app);
  // Before every route, the OpenAPI UI's included: its onRoute hook gives page routes their headers.
  securityHeaders(app);
  // Auth and limits first: their onRoute hooks must see every route registered after them.
  await app.register(auth, { auth: config.auth });
  await app.register(limits, { limits: config.rateLimits });
  await app.register(contract, { checkResponses: config.checkResponses === true });
  tidyAnswers(app);
  const { definitions, evaluator, pipeline, times, deployments, decisions, corrections: fixes } = parts;
  await app.register(metrics, { metrics: parts.metrics });
  await app.register(health, { storage: parts.storage, evaluator, definitions });
  await app.register(slos, { evaluator, definitions });
  await app.register(timeseries, {
    definitions,
    buckets: parts.buckets,
    timeline: parts.timeline,
    deployments,
    decisions,
    alertEpisodes: parts.alertEpisodes,
    times,
    corrections: fixes,
    ...(parts.chartQueries && { chartQueries: parts.chartQueries }),
  });
  await app.register(breakdown, {
    definitions,
    buckets: parts.buckets,
    seriesBreakdown: parts.seriesBreakdown,
    times,
    links: config.links,
    nativeOnEngine: config.engine !== undefined,
    ...(parts.engineBreakdown && { engineBreakdown: parts.engineBreakdown }),
  });
  await app.register(gate, {
    gate: parts.gate,
    decisions,
    evaluations: parts.evaluations,
    overrides: parts.overrides,
    deployments,
    definitions,
    times,
  });
  await app.register(corrections, {
    corrections: fixes,
    definitions,
    ...(parts.correctionWrites && { correctionWrites: parts.correctionWrites }),
  });
  await app.register(incidents, { history: parts.history, definitions, times });
  await app.register(ingest, { config, pipeline, routes: parts.routes });
  await app.register(spans, { config, pipeline, spans: parts.spans });
  await app.register(otlp, {
    config,
    pipeline,
    spans: parts.spans,
    metrics: parts.metrics,
    routes: parts.routes,
  });
  await app.register(dashboard);
  if (options.reload) await app.register(reloadRoute, { reload: options.reload });
  return app;
}
