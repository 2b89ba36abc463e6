import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { type EngineProcess, PrometheusServer } from '../helpers/prometheus.js';
import { SloguardProcess } from '../helpers/service.js';
import { SHOP_TRACE_SLOS } from '../helpers/shopSlos.js';
import { tempDir } from '../helpers/tmp.js';
import { VictoriaMetricsServer } from '../helpers/victoriametrics.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The collector role (issue #21) against real engines: spans and log lines in, counters of the series contract
 * out through Prometheus remote write; the engine's raw values equal what the test sent, per series, rule and
 * latency bound; an engine outage and a SIGKILL lose nothing flushed.
 */

const CHECKOUT_SLOS = `
apiVersion: sloguard/v1
kind: SLO
metadata: { name: checkout-availability, service: checkout }
spec:
  indicator:
    source: loadbalancer
    bad: { status: [429, "500-599"] }
    exclude: [{ status: 404 }]
  objective: 99
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: checkout-latency, service: checkout }
spec:
  indicator:
    source: loadbalancer
    select: { route: /api/orders, method: POST }
    good: { latency: "<= 300ms" }
  objective: 99
  window: 28d
`;

const FLUSH = '1s';

/** Zipkin spans of `shop`: every 10th answers 503; durations 10–200 ms in steps of 10. */
function spans(count: number, offset: number) {
  const nowUs = Date.now() * 1000;
  const hex = (n: number) => n.toString(16).padStart(16, '0');
  return Array.from({ length: count }, (_, i) => ({
    traceId: hex(0x100000 + offset + i),
    id: hex(0x200000 + offset + i),
    kind: 'SERVER',
    name: 'get',
    timestamp: nowUs - 1_000_000,
    duration: 10_000 + ((offset + i) % 20) * 10_000,
    localEndpoint: { serviceName: 'shop' },
    tags: {
      'http.method': 'GET',
      'http.route': '/items/:id',
      'http.status_code': (offset + i) % 10 === 0 ? '503' : '200',
    },
  }));
}

const STATUSES = [200, 201, 429, 500, 404];

/** nginx lines (the README's format) of POSTs to /api/orders: statuses cycle through STATUSES, 0–0.9 s. */
function logLines(count: number, offset: number): string {
  const when = new Date(Date.now() - 1000);
  const stamp = `${String(when.getUTCDate()).padStart(2, '0')}/${when.toLocaleString('en', { month: 'short', timeZone: 'UTC' })}/${when.getUTCFullYear()}:${when.toISOString().slice(11, 19)} +0000`;
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    return `127.0.0.1 - - [${stamp}] "POST /api/orders HTTP/1.1" ${STATUSES[n % STATUSES.length]} 12 "-" "curl/8" ${((n % 10) / 10).toFixed(3)}`;
  }).join('\n');
}

/** What the test counts of what it sent, as the contract's counters should hold it. */
function expected(spanCount: number, lineCount: number) {
  const spanIndex = Array.from({ length: spanCount }, (_, i) => i);
  const lineIndex = Array.from({ length: lineCount }, (_, i) => i);
  const lineStatus = (n: number) => STATUSES[n % STATUSES.length]!;
  return {
    spans: spanCount,
    spanErrors: spanIndex.filter((n) => n % 10 === 0).length,
    spansWithin100ms: spanIndex.filter((n) => 10 + (n % 20) * 10 <= 100).length,
    spansWithin50ms: spanIndex.filter((n) => 10 + (n % 20) * 10 <= 50).length,
    lines: lineCount,
    lineErrors: lineIndex.filter((n) => lineStatus(n) >= 500).length,
    ruleValid: lineIndex.filter((n) => lineStatus(n) !== 404).length,
    ruleBad: lineIndex.filter((n) => lineStatus(n) === 429 || lineStatus(n) >= 500).length,
    linesWithin300ms: lineIndex.filter((n) => (n % 10) / 10 <= 0.3).length,
    linesWithin100ms: lineIndex.filter((n) => (n % 10) / 10 <= 0.1).length,
  };
}

/** One number from an instant query (`sum(...)`), or undefined when the engine has no such series yet. */
async function scalar(engine: EngineProcess, expr: string): Promise<number | undefined> {
  const response = await fetch(`${engine.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
  const first = body.data.result[0];
  return first ? Number(first.value[1]) : undefined;
}

async function send(collector: SloguardProcess, spanCount: number, lineCount: number, offset = 0) {
  const spanAnswer = await fetch(`${collector.url}/api/v2/spans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spans(spanCount, offset)),
  });
  expect(spanAnswer.status).toBe(202);
  const logAnswer = await fetch(`${collector.url}/api/v1/ingest/lb?format=nginx&service=checkout`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: logLines(lineCount, offset),
  });
  expect(await logAnswer.json()).toMatchObject({ accepted: lineCount, rejected: 0 });
}

interface Role {
  definitions: string;
  buffer: string;
  cleanup(): void;
}

function collectorFiles(): Role {
  const dir = tempDir('sloguard-collector-');
  mkdirSync(join(dir.path, 'defs'));
  dir.file('defs/slos.yaml', `${SHOP_TRACE_SLOS}---${CHECKOUT_SLOS}`);
  return { definitions: join(dir.path, 'defs'), buffer: join(dir.path, 'buffer.db'), cleanup: dir.cleanup };
}

function startCollector(files: Role, writeUrl: string, id?: string): Promise<SloguardProcess> {
  return SloguardProcess.start({
    definitions: files.definitions,
    until: 'ready',
    env: {
      SLOGUARD_COLLECTOR_REMOTE_WRITE_URL: writeUrl,
      SLOGUARD_COLLECTOR_FLUSH_INTERVAL: FLUSH,
      SLOGUARD_COLLECTOR_BUFFER_PATH: files.buffer,
      ...(id && { SLOGUARD_COLLECTOR_ID: id }),
    },
  });
}

/** The figures of the collector's own /metrics. */
async function ownMetric(collector: SloguardProcess, name: string): Promise<number> {
  const text = await (await fetch(`${collector.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const ENGINES: Array<[string, () => Promise<EngineProcess>]> = [
  ['VictoriaMetrics', () => VictoriaMetricsServer.start()],
  ['Prometheus 2.42', () => PrometheusServer.start({ targets: [], remoteWriteReceiver: true })],
];

describe.each(ENGINES)('a collector writing to %s', (_name, startEngine) => {
  let engine: EngineProcess;
  let collector: SloguardProcess;
  let files: Role;

  beforeAll(async () => {
    engine = await startEngine();
    files = collectorFiles();
    collector = await startCollector(files, `${engine.url}/api/v1/write`, 'edge-1');
  }, 60_000);

  afterAll(async () => {
    await collector?.cleanup();
    await engine?.stop();
    files?.cleanup();
  });

  it('serves ingest only: the evaluator parts answer 503 collector_role', async () => {
    const slos = await collector.json<{ error: string }>('/api/v1/slos');
    expect(slos.status).toBe(503);
    expect(slos.body.error).toBe('collector_role');
    expect((await collector.json('/healthz')).status).toBe(200);
    expect((await collector.json('/readyz')).status).toBe(200);
  });

  it("writes counters whose raw values equal the test's own count per series, rule and latency bound", async () => {
    await send(collector, 400, 250);
    await send(collector, 200, 100, 400);
    const want = expected(600, 350);
    const sum = (expr: string) => scalar(engine, `sum(${expr})`);
    await waitFor(
      'the engine to hold every observation',
      async () =>
        (await sum('sloguard_requests_total{service="shop"}')) === want.spans &&
        (await sum('sloguard_requests_total{service="checkout"}')) === want.lines,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const shop = '{service="shop",kind="traces",collector="edge-1",operation="/items/:id",method="GET"}';
    expect(await sum(`sloguard_request_errors_total${shop}`)).toBe(want.spanErrors);
    expect(await sum(`sloguard_request_duration_seconds_count${shop}`)).toBe(want.spans);
    const bucket = (le: string) => sum(`sloguard_request_duration_seconds_bucket{service="shop",le="${le}"}`);
    expect(await bucket('0.1')).toBe(want.spansWithin100ms);
    expect(await bucket('0.05')).toBe(want.spansWithin50ms);
    expect(await bucket('+Inf')).toBe(want.spans);

    const checkout = '{service="checkout",kind="loadbalancer",source="nginx"}';
    expect(await sum(`sloguard_request_errors_total${checkout}`)).toBe(want.lineErrors);
    // One counting rule is declared for checkout (the availability SLO's).
    expect(
      await scalar(engine, 'count(count by (rule) (sloguard_rule_events_total{service="checkout"}))'),
    ).toBe(1);
    expect(await sum('sloguard_rule_events_total{service="checkout",verdict="valid"}')).toBe(want.ruleValid);
    expect(await sum('sloguard_rule_events_total{service="checkout",verdict="bad"}')).toBe(want.ruleBad);
    expect(await sum('sloguard_request_duration_seconds_bucket{service="checkout",le="0.3"}')).toBe(
      want.linesWithin300ms,
    );
    // The ladder's bounds are exact too (0.1 s: durations 0 and 0.1 s).
    expect(await sum('sloguard_request_duration_seconds_bucket{service="checkout",le="0.1"}')).toBe(
      want.linesWithin100ms,
    );
  }, 60_000);
});
