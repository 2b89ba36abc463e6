import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { ROOT, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { serviceWithSlos, settled } from '../helpers/traceClients.js';

const APP = join(ROOT, 'test/fixtures/otlp/otlp-metrics-app.cjs');

/**
 * Per exporter setup, a service with an availability SLO over all its requests and two latency SLOs of its GET
 * route: ≤ 100 ms (a bound of the SDK's default buckets: exact) and ≤ 200 ms (inside the bucket (100, 250] ms:
 * interpolated).
 */
const slos = (service: string) => `
apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${service}-availability, service: ${service} }
spec: { indicator: { source: otlp-metrics }, objective: 99, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${service}-latency, service: ${service} }
spec:
  indicator:
    source: otlp-metrics
    select: { route: "/orders/:id", method: GET }
    good: { latency: "<= 100ms" }
  objective: 90
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${service}-latency-between, service: ${service} }
spec:
  indicator:
    source: otlp-metrics
    select: { route: "/orders/:id", method: GET }
    good: { latency: "<= 200ms" }
  objective: 90
  window: 28d
`;

/** [path, method, status, delay ms, times]: the requests one run of the app serves. */
const MIX = [
  ['/orders/17', 'GET', 200, 1, 6],
  ['/orders/18', 'GET', 404, 1, 2],
  ['/orders/19', 'GET', 503, 1, 2],
  ['/orders/20', 'GET', 200, 150, 2],
  ['/orders/21', 'GET', 200, 400, 1],
  ['/orders', 'POST', 500, 1, 1],
];
/** One run: 11 of 14 requests answered without a 5xx. */
const RUN = { good: 11, valid: 14 };
/** GET /orders/:id: 10 of 13 within 100 ms (the 1 ms ones), exactly. */
const FAST = { good: 10, valid: 13 };
/** Within 200 ms: truly 12 of 13; the 150 ms ones share the bucket (100, 250] ms with the threshold. */
const IN_BUCKET = 2;

const SERVICES = ['shop-cumulative-proto', 'shop-delta-json', 'shop-exponential-proto'];

let clients: Awaited<ReturnType<typeof serviceWithSlos>>;
let service: SloguardProcess;

beforeAll(async () => {
  clients = await serviceWithSlos('sloguard-otlp-metrics-', SERVICES.map(slos).join('---\n'));
  service = clients.service;
});
afterAll(() => clients?.cleanup());

/** One run of the instrumented app: a process of its own, so a second run is an SDK restart (a counter reset). */
async function runApp(name: string, env: Record<string, string>): Promise<void> {
  const { stdout } = await promisify(execFile)(process.execPath, [APP], {
    cwd: ROOT,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      OTEL_SERVICE_NAME: name,
      // The resource without process.pid and host: a second run is the same streams, restarted.
      OTEL_NODE_RESOURCE_DETECTORS: 'env',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${service.url}/v1/metrics`,
      MIX: JSON.stringify(MIX),
      ...env,
    },
  });
  expect(stdout).toContain('exported');
}

/** Two runs of the app (an SDK restart between them), then the three SLOs once both runs are counted. */
async function twoRuns(name: string, env: Record<string, string>) {
  await runApp(name, env);
  expect(await settled(service, `${name}-availability`, RUN.valid)).toEqual(RUN);
  await runApp(name, env);
  return {
    availability: await settled(service, `${name}-availability`, 2 * RUN.valid),
    fast: await settled(service, `${name}-latency`, 2 * FAST.valid),
    between: await settled(service, `${name}-latency-between`, 2 * FAST.valid),
  };
}

const twice = ({ good, valid }: { good: number; valid: number }) => ({ good: 2 * good, valid: 2 * valid });

describe('OpenTelemetry JS SDK metrics exporters with an instrumented HTTP server', () => {
  it.each([
    [
      '@opentelemetry/exporter-metrics-otlp-proto, cumulative, gzip',
      'shop-cumulative-proto',
      { protocol: 'http/protobuf', temporality: 'cumulative', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
    ],
    [
      '@opentelemetry/exporter-metrics-otlp-http (OTLP/JSON), delta',
      'shop-delta-json',
      { protocol: 'http/json', temporality: 'delta' },
    ],
    [
      '@opentelemetry/exporter-metrics-otlp-proto, exponential histograms, cumulative',
      'shop-exponential-proto',
      { protocol: 'http/protobuf', temporality: 'cumulative', HISTOGRAM: 'exponential' },
    ],
  ])('%s, restarted mid-way: availability and latency at a bound exact', async (_, name, setup) => {
    const { protocol, temporality, ...env } = setup;
    const counts = await twoRuns(name, {
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: temporality,
      ...env,
    });
    expect(counts.availability).toEqual(twice(RUN));
    expect(counts.fast).toEqual(twice(FAST));
    // Between bounds: within the requests of the bucket around the threshold.
    expect(counts.between.valid).toBe(2 * FAST.valid);
    expect(counts.between.good).toBeGreaterThanOrEqual(2 * FAST.good);
    expect(counts.between.good).toBeLessThanOrEqual(2 * (FAST.good + IN_BUCKET));
  });
});

describe('the OTLP listener (SLOGUARD_OTLP_PORT)', () => {
  it('serves both OTLP routes on a port of their own, and nothing else of the API', async () => {
    const port = await freePort();
    const definitions = tempDir('sloguard-otlp-port-');
    definitions.file('slos.yaml', slos('shop-port'));
    const own = await SloguardProcess.start({
      definitions: definitions.path,
      env: { SLOGUARD_OTLP_PORT: String(port) },
    });
    try {
      const otlpUrl = `http://127.0.0.1:${port}`;
      await runApp('shop-port', {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${otlpUrl}/v1/metrics`,
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      });
      expect(await settled(own, 'shop-port-availability', RUN.valid)).toEqual(RUN);
      const traces = await fetch(`${otlpUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"resourceSpans": []}',
      });
      expect(traces.status).toBe(200);
      expect(await traces.json()).toEqual({});
      const api = await fetch(`${otlpUrl}/api/v1/slos`);
      expect(api.status).toBe(404);
      expect(await api.json()).toMatchObject({ error: 'not_found' });
    } finally {
      await own.cleanup();
      definitions.cleanup();
    }
  });
});
