/**
 * Spans per second through one collector (issue #21): `POST /api/v2/spans`, JSON batches of 500 spans, autocannon
 * with 10 connections, against a `sloguard serve` in the collector role remote-writing to a real VictoriaMetrics
 * every second. Baseline in the same run: the embedded service (the same build and SLO, committing to SQLite
 * buckets). Rounds alternate between the two, the ratio is taken within each round (bench/method.ts); each side
 * also reports its CPU per batch (/proc), steadier than throughput on a shared machine. After the last round the
 * engine must hold every span the collector answered 202 for.
 *
 *   BENCH_ROUNDS=3 BENCH_SECONDS=3 npm run bench -- collector
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { SloguardProcess } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { VictoriaMetricsServer } from '../test/helpers/victoriametrics.js';
import { waitFor } from '../test/helpers/wait.js';
import { AS_IN_PRODUCTION, Comparison, envInt, processCpuMs, rounds } from './method.js';

const SPANS_PER_BATCH = 500;
const SECONDS = envInt('BENCH_SECONDS', 3);
const ROUNDS = rounds(3);
const CONNECTIONS = 10;

const SLO = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: catalog-latency, service: catalog }
spec: { indicator: { source: traces, good: { latency: "<= 250ms" } }, objective: 99, window: 28d }
`;

/** Server spans of a few services and routes, every 50th a 503. */
function spanBatch(nowUs: number): string {
  const services = ['catalog', 'checkout', 'search', 'profile', 'gateway'];
  const routes = ['/api/items/:id', '/api/cart', '/api/search', '/api/users/:id', '/health'];
  const hex = (n: number) => n.toString(16).padStart(16, '0');
  return JSON.stringify(
    Array.from({ length: SPANS_PER_BATCH }, (_, i) => ({
      traceId: hex(i * 7919 + 1),
      id: hex(0x1000 + i),
      kind: 'SERVER',
      name: 'get',
      timestamp: nowUs - i * 1000,
      duration: 1000 + ((i * 7331) % 400_000),
      localEndpoint: { serviceName: services[i % services.length] },
      tags: {
        'http.request.method': 'GET',
        'http.route': routes[i % routes.length],
        'http.response.status_code': i % 50 === 0 ? '503' : '200',
      },
    })),
  );
}

/** Batches answered in one round; every answer must be 202. */
async function round(url: string, body: string): Promise<number> {
  const result = await autocannon({
    url: `${url}/api/v2/spans`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  return result.requests.total;
}

async function start(dir: ReturnType<typeof tempDir>, env: Record<string, string>): Promise<SloguardProcess> {
  return SloguardProcess.start({
    definitions: join(dir.path, 'defs'),
    databasePath: join(dir.path, `${Object.keys(env).length > 0 ? 'collector' : 'embedded'}.db`),
    until: 'ready',
    env: { ...AS_IN_PRODUCTION, SLOGUARD_EVALUATION_INTERVAL: '1h', ...env },
  });
}

async function main(): Promise<void> {
  const dir = tempDir('sloguard-bench-collector-');
  mkdirSync(join(dir.path, 'defs'));
  dir.file('defs/catalog.yaml', SLO);
  const engine = await VictoriaMetricsServer.start();
  const embedded = await start(dir, {});
  const collector = await start(dir, {
    SLOGUARD_COLLECTOR_REMOTE_WRITE_URL: `${engine.url}/api/v1/write`,
    SLOGUARD_COLLECTOR_FLUSH_INTERVAL: '1s',
    SLOGUARD_COLLECTOR_ID: 'bench',
  });
  try {
    const throughput = new Comparison(
      'spans/s through one collector',
      'spans/s',
      'embedded',
      'ours/baseline',
    );
    const cpu = new Comparison('CPU per batch of 500 spans', 'ms', 'embedded', 'baseline/ours');
    let sent = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const body = spanBatch(Date.now() * 1000);
      const measure = async (service: SloguardProcess) => {
        const cpuBefore = processCpuMs(service.pid!);
        const batches = await round(service.url, body);
        return {
          spansPerSecond: (batches * SPANS_PER_BATCH) / SECONDS,
          cpuMs: (processCpuMs(service.pid!) - cpuBefore) / batches,
          batches,
        };
      };
      // Alternate which side goes first, so a burst of load elsewhere does not fall on one side only.
      const [first, second] = r % 2 === 0 ? [collector, embedded] : [embedded, collector];
      const a = await measure(first);
      const b = await measure(second);
      const [ours, base] = first === collector ? [a, b] : [b, a];
      sent += ours.batches * SPANS_PER_BATCH;
      throughput.add(ours.spansPerSecond, base.spansPerSecond);
      cpu.add(ours.cpuMs, base.cpuMs);
    }
    throughput.print();
    cpu.print();
    const query = `${engine.url}/api/v1/query?${new URLSearchParams({ query: 'sum(sloguard_requests_total{collector="bench"})' })}`;
    let last = 0;
    const held = await waitFor(
      `the engine to hold the ${sent} spans answered 202`,
      async () => {
        const answer = (await (await fetch(query)).json()) as {
          data: { result: Array<{ value: [number, string] }> };
        };
        const value = Number(answer.data.result[0]?.value[1]);
        last = value;
        // autocannon leaves out the batches in flight when a round ends (at most one per connection).
        return value >= sent && value <= sent + ROUNDS * CONNECTIONS * SPANS_PER_BATCH && value;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message} (the engine holds ${last})`);
    });
    process.stdout.write(
      `engine holds ${held} spans; the collector answered 202 for ${sent} counted by autocannon (and up to ${CONNECTIONS} batches in flight at the end of each round)\n`,
    );
  } finally {
    await collector.cleanup();
    await embedded.cleanup();
    await engine.stop();
    dir.cleanup();
  }
}

await main();
