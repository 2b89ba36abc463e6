import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchRecorder, ExplicitContext, Instrumentation, jsonEncoder, option, Tracer } from 'zipkin';
import { HttpLogger } from 'zipkin-transport-http';
import type { SloguardProcess } from '../helpers/service.js';
import { serviceWithSlos, settled, tracerProvider } from '../helpers/traceClients.js';

/** Trace SLOs of two services, one per client library. */
const SLOS = `
apiVersion: sloguard/v1
kind: SLO
metadata: { name: checkout-availability, service: checkout-api }
spec: { indicator: { source: traces }, objective: 99, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: checkout-order-latency, service: checkout-api }
spec:
  indicator:
    source: traces
    select: { route: "/orders/:id", method: GET }
    good: { latency: "<= 100ms" }
  objective: 90
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: checkout-dependencies, service: checkout-api }
spec: { indicator: { source: traces, select: { spanKinds: [client] } }, objective: 99, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: inventory-availability, service: inventory }
spec: { indicator: { source: traces }, objective: 99, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: inventory-latency, service: inventory }
spec: { indicator: { source: traces, good: { latency: "<= 200ms" } }, objective: 90, window: 28d }
`;

let clients: Awaited<ReturnType<typeof serviceWithSlos>>;
let service: SloguardProcess;

beforeAll(async () => {
  clients = await serviceWithSlos('sloguard-zipkin-clients-', SLOS);
  service = clients.service;
});
afterAll(() => clients?.cleanup());

describe('real Zipkin clients against a running sloguard', () => {
  it('OpenTelemetry SDK with @opentelemetry/exporter-zipkin (default settings but the URL)', async () => {
    const provider = tracerProvider(
      'checkout-api',
      new ZipkinExporter({ url: `${service.url}/api/v2/spans` }),
    );
    const tracer = provider.getTracer('checkout');
    const t0 = Date.now() - 10_000;
    const request = (
      i: number,
      name: string,
      kind: SpanKind,
      durationMs: number,
      attributes: Record<string, string | number>,
      error = false,
      parent?: Span,
    ) => {
      const context = parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
      const span = tracer.startSpan(name, { kind, startTime: t0 + i * 1000, attributes }, context);
      if (error) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(t0 + i * 1000 + durationMs);
      return span;
    };
    const get = (status: number) => ({
      'http.request.method': 'GET',
      'http.route': '/orders/:id',
      'url.path': '/orders/17',
      'http.response.status_code': status,
    });
    request(0, 'GET /orders/:id', SpanKind.SERVER, 50, get(200));
    request(1, 'GET /orders/:id', SpanKind.SERVER, 80, get(200));
    request(2, 'GET /orders/:id', SpanKind.SERVER, 300, get(200));
    request(3, 'GET /orders/:id', SpanKind.SERVER, 10, get(404));
    request(4, 'POST /orders', SpanKind.SERVER, 20, {
      'http.request.method': 'POST',
      'http.route': '/orders',
      'http.response.status_code': 500,
    });
    const payment = request(5, 'process payment', SpanKind.SERVER, 40, {}, true);
    request(6, 'GET', SpanKind.CLIENT, 30, {
      'http.request.method': 'GET',
      'http.response.status_code': 503,
    });
    request(5, 'render receipt', SpanKind.INTERNAL, 5, {}, false, payment);
    await provider.forceFlush();
    await provider.shutdown();

    // 200, 200, 200, 404 good; 500 and the errored payment bad. Client and internal spans do not count.
    expect(await settled(service, 'checkout-availability', 6)).toEqual({ good: 4, valid: 6 });
    // GET /orders/:id took 50, 80, 300 and 10 ms against a 100 ms threshold.
    expect(await settled(service, 'checkout-order-latency', 4)).toEqual({ good: 3, valid: 4 });
    expect(await settled(service, 'checkout-dependencies', 1)).toEqual({ good: 0, valid: 1 });
  });

  it('zipkin-js HttpServer instrumentation with zipkin-transport-http (JSON_V2 to /api/v2/spans)', async () => {
    const logger = new HttpLogger({
      endpoint: `${service.url}/api/v2/spans`,
      jsonEncoder: jsonEncoder.JSON_V2,
      httpInterval: 100,
    });
    const tracer = new Tracer({
      ctxImpl: new ExplicitContext(),
      recorder: new BatchRecorder({ logger }),
      localServiceName: 'inventory',
    });
    const readHeader =
      (request: IncomingMessage) =>
      <T>(name: string): option.IOption<T> => {
        const value = request.headers[name.toLowerCase()];
        return typeof value === 'string' ? new option.Some(value as T) : option.None;
      };
    let server: Server | undefined;
    try {
      server = createServer((request, response) => {
        tracer.scoped(() => {
          const instrumentation = new Instrumentation.HttpServer({ tracer, port: 0 });
          const id = instrumentation.recordRequest(
            request.method ?? 'GET',
            `http://127.0.0.1${request.url}`,
            readHeader(request),
          );
          const answer = (status: number) => {
            response.statusCode = status;
            response.end();
            tracer.letId(id, () => instrumentation.recordResponse(id, String(status)));
          };
          if (request.url === '/slow') setTimeout(() => answer(200), 400);
          else answer(request.url === '/missing' ? 404 : request.url === '/boom' ? 500 : 200);
        });
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      for (const path of ['/items/1', '/items/2', '/missing', '/boom', '/slow']) {
        await (await fetch(`http://127.0.0.1:${port}${path}`)).arrayBuffer();
      }
    } finally {
      await new Promise((resolve) => server?.close(resolve));
    }
    // zipkin-js tags the 404 and the 500 with `error`; the status decides: only the 500 is bad.
    expect(await settled(service, 'inventory-availability', 5)).toEqual({ good: 4, valid: 5 });
    expect(await settled(service, 'inventory-latency', 5)).toEqual({ good: 4, valid: 5 });
  });
});
