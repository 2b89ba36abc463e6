import { type HrTime, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SloguardProcess } from '../helpers/service.js';
import { EXPORT_TIMEOUT_MS, serviceWithSlos, settled, tracerProvider } from '../helpers/traceClients.js';

/** Per exporter, a service with an availability SLO and a latency SLO of its GET route. */
const slos = (service: string) => `
apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${service}-availability, service: ${service} }
spec: { indicator: { source: traces }, objective: 99, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${service}-latency, service: ${service} }
spec:
  indicator:
    source: traces
    select: { route: "/orders/:id", method: GET }
    good: { latency: "<= 100ms" }
  objective: 90
  window: 28d
`;

const SERVICES = ['orders-proto', 'orders-json', 'orders-env-proto', 'orders-env-json'];

let clients: Awaited<ReturnType<typeof serviceWithSlos>>;
let service: SloguardProcess;

beforeAll(async () => {
  clients = await serviceWithSlos('sloguard-otlp-clients-', SERVICES.map(slos).join('---\n'));
  service = clients.service;
});
afterAll(() => clients?.cleanup());

/**
 * Sends a known mix with `tracer`, then `flush`es: GET /orders/:id answered 200 in 50 ms, in exactly 100 ms, in
 * 100 ms and 1 ns, 404 in 10 ms and 503 in 300 ms; a POST 500; a server span with status ERROR; a client span
 * and an internal child, which do not count.
 */
async function sendMix(tracer: Tracer, flush: () => Promise<void>): Promise<void> {
  const t0 = Math.floor(Date.now() / 1000) - 30;
  const at = (second: number, nanos = 0): HrTime => [t0 + second, nanos];
  const request = (
    second: number,
    durationNs: number,
    spanName: string,
    kind: SpanKind,
    attributes: Record<string, string | number>,
    error = false,
  ) => {
    const span = tracer.startSpan(spanName, { kind, startTime: at(second), attributes }, ROOT_CONTEXT);
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
    span.end(at(second, durationNs));
    return span;
  };
  const get = (status: number) => ({
    'http.request.method': 'GET',
    'http.route': '/orders/:id',
    'url.path': '/orders/17',
    'http.response.status_code': status,
  });
  request(0, 50_000_000, 'GET /orders/:id', SpanKind.SERVER, get(200));
  request(1, 100_000_000, 'GET /orders/:id', SpanKind.SERVER, get(200));
  request(2, 100_000_001, 'GET /orders/:id', SpanKind.SERVER, get(200));
  request(3, 10_000_000, 'GET /orders/:id', SpanKind.SERVER, get(404));
  request(4, 300_000_000, 'GET /orders/:id', SpanKind.SERVER, get(503));
  request(5, 20_000_000, 'POST /orders', SpanKind.SERVER, {
    'http.request.method': 'POST',
    'http.route': '/orders',
    'http.response.status_code': 500,
  });
  const payment = request(6, 40_000_000, 'process payment', SpanKind.SERVER, {}, true);
  request(7, 30_000_000, 'GET', SpanKind.CLIENT, {
    'http.request.method': 'GET',
    'http.response.status_code': 503,
  });
  tracer
    .startSpan(
      'render receipt',
      { kind: SpanKind.INTERNAL, startTime: at(6) },
      trace.setSpan(ROOT_CONTEXT, payment),
    )
    .end(at(6, 5_000_000));
  await flush();
}

/** The mix through a tracer provider of service `name` exporting with `exporter`. */
async function exportMix(name: string, exporter: SpanExporter): Promise<void> {
  const provider = tracerProvider(name, exporter);
  await sendMix(provider.getTracer('otlp-clients'), () => provider.shutdown());
}

/** 200, 200, 200, 404 good; 503, 500 and the errored payment bad: 4 of 7. */
const AVAILABILITY = { good: 4, valid: 7 };
/** GET /orders/:id took 50 ms, 100 ms, 100 ms + 1 ns, 10 ms and 300 ms against ≤ 100 ms: 3 of 5, exactly. */
const LATENCY = { good: 3, valid: 5 };

describe('OpenTelemetry JS SDK OTLP exporters against a running sloguard', () => {
  it('@opentelemetry/exporter-trace-otlp-proto (protobuf)', async () => {
    await exportMix(
      'orders-proto',
      new ProtoExporter({ url: `${service.url}/v1/traces`, timeoutMillis: EXPORT_TIMEOUT_MS }),
    );
    expect(await settled(service, 'orders-proto-availability', 7)).toEqual(AVAILABILITY);
    expect(await settled(service, 'orders-proto-latency', 5)).toEqual(LATENCY);
  });

  it('@opentelemetry/exporter-trace-otlp-http (OTLP/JSON)', async () => {
    await exportMix(
      'orders-json',
      new JsonExporter({ url: `${service.url}/v1/traces`, timeoutMillis: EXPORT_TIMEOUT_MS }),
    );
    expect(await settled(service, 'orders-json-availability', 7)).toEqual(AVAILABILITY);
    expect(await settled(service, 'orders-json-latency', 5)).toEqual(LATENCY);
  });

  it.each([
    ['http/protobuf', 'orders-env-proto'],
    ['http/json', 'orders-env-json'],
  ])('NodeSDK configured only by the environment docs/otlp.md gives (%s, gzip)', async (protocol, name) => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      OTEL_SERVICE_NAME: name,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: service.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_TIMEOUT: String(EXPORT_TIMEOUT_MS),
      OTEL_BSP_EXPORT_TIMEOUT: String(EXPORT_TIMEOUT_MS),
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
    const sdk = new NodeSDK({ instrumentations: [] });
    try {
      sdk.start();
      await sendMix(trace.getTracer('otlp-clients'), () => sdk.shutdown());
    } finally {
      trace.disable();
      process.env = saved;
    }
    expect(await settled(service, `${name}-availability`, 7)).toEqual(AVAILABILITY);
    expect(await settled(service, `${name}-latency`, 5)).toEqual(LATENCY);
  });
});
