import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../config/config.js';
import type { ExportLog } from './zipkinExport.js';

/**
 * Marks the exporter's own POSTs. Without it, pointed at sloguard itself, every export would be traced as a
 * server span, exported in the next batch, traced again: a loop that never ends.
 */
export const SELF_EXPORT_HEADER = 'x-sloguard-self-export';

/** The setting's value that means "this service's own collector". */
export const SELF = 'self';

export interface Tracing {
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** Where spans go: the setting as given, or for `self` this service's own `POST /api/v2/spans`. */
export function tracingEndpoint(setting: string, serviceUrl: string): string {
  return setting === SELF ? `${serviceUrl}/api/v2/spans` : setting;
}

/** The OpenTelemetry variable for the Zipkin exporter's timeout, and its default (both from the specification). */
export const EXPORT_TIMEOUT_VARIABLE = 'OTEL_EXPORTER_ZIPKIN_TIMEOUT';
const DEFAULT_EXPORT_TIMEOUT_MS = 10_000;
/**
 * At most the batch processor's own export timeout (OTEL_BSP_EXPORT_TIMEOUT, 30 s by default): a batch's request
 * has ended before the processor gives up on it and sends the next, so requests never pile up on a hung endpoint.
 */
const MAX_EXPORT_TIMEOUT_MS = 30_000;
const MIN_EXPORT_TIMEOUT_MS = 100;

/** How long one export may take, answer included (milliseconds); a value out of range is a ConfigError. */
export function exportTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[EXPORT_TIMEOUT_VARIABLE];
  if (text === undefined || text === '') return DEFAULT_EXPORT_TIMEOUT_MS;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < MIN_EXPORT_TIMEOUT_MS || ms > MAX_EXPORT_TIMEOUT_MS) {
    throw new ConfigError(
      EXPORT_TIMEOUT_VARIABLE,
      `expected milliseconds from ${MIN_EXPORT_TIMEOUT_MS} to ${MAX_EXPORT_TIMEOUT_MS}, got "${text}"`,
    );
  }
  return ms;
}

/**
 * Traces sloguard's HTTP handling with the OpenTelemetry Node SDK and exports the spans as Zipkin JSON, each
 * export bounded in time and in the answer it reads; a failed export's spans are dropped with a warning in `log`.
 * Only traces: the SDK's default OTLP metric and log exporters stay off, so nothing else leaves the host.
 */
export async function startTracing(
  endpoint: string,
  log: ExportLog,
  token?: string,
  serviceName = 'sloguard',
): Promise<Tracing> {
  const timeoutMs = exportTimeoutMs();
  // Loaded only when tracing is on: the SDK was most of the service's module loading at start (issue #23).
  const [{ NodeSDK }, { BoundedZipkinExporter }, { HttpInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('./zipkinExport.js'),
    import('@opentelemetry/instrumentation-http'),
  ]);
  const headers: Record<string, string> = { [SELF_EXPORT_HEADER]: '1' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new BoundedZipkinExporter({ url: endpoint, headers, serviceName, timeoutMs, log }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => SELF_EXPORT_HEADER in request.headers,
      }),
    ],
  });
  sdk.start();
  // fastify loaded node:http before the SDK started; requiring it again lets the instrumentation patch it.
  createRequire(import.meta.url)('node:http');
  return { shutdown: () => sdk.shutdown() };
}

/** Puts each request's route template on its server span (fastify knows routes, the http layer does not). */
export function recordRoutes(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined) trace.getActiveSpan()?.setAttribute('http.route', route);
    done();
  });
}
