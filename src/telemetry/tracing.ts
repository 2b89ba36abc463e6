import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

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

/**
 * Traces sloguard's HTTP handling with the OpenTelemetry Node SDK and exports the spans as Zipkin JSON.
 * Only traces: the SDK's default OTLP metric and log exporters stay off, so nothing else leaves the host.
 */
export async function startTracing(
  endpoint: string,
  token?: string,
  serviceName = 'sloguard',
): Promise<Tracing> {
  // Loaded only when tracing is on: the SDK was most of the service's module loading at start (issue #23).
  const [{ NodeSDK }, { ZipkinExporter }, { HttpInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-zipkin'),
    import('@opentelemetry/instrumentation-http'),
  ]);
  const headers: Record<string, string> = { [SELF_EXPORT_HEADER]: '1' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new ZipkinExporter({ url: endpoint, headers }),
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
