/**
 * Deploy gate latency under load: p50/p99 of `GET /api/v1/gate` at 1,000 requests/s (autocannon) against a
 * real `sloguard serve`, while Zipkin spans are posted to the same process at 50,000 spans/s
 * (`POST /api/v2/spans`, 100 batches of 500 per second). Baseline in the same run: a bare fastify route in its
 * own process, hit at the same rate while the span load keeps running; sloguard's own /healthz under the same
 * load (what the gate itself adds); and the gate again without the span load (what ingest costs it).
 * Target: gate p99 ≤ 5 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { report } from './report.js';

const GATE_RATE = Number(process.env.BENCH_GATE_RATE ?? 1_000);
const SPANS_PER_SECOND = Number(process.env.BENCH_SPANS_PER_SECOND ?? 50_000);
/** OpenTelemetry's batch span processor exports at most 512 spans per request; Zipkin reporters similar. */
const SPANS_PER_BATCH = Number(process.env.BENCH_SPANS_PER_BATCH ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROOT = resolve(import.meta.dirname, '..');

/** The bare baseline: the smallest fastify app answering JSON, run as its own process like sloguard. */
if (process.argv[2] === '--bare-server') {
  const app = Fastify();
  app.get('/bare', async () => ({ allowed: true, decision: 'allow' }));
  await app.listen({ host: '127.0.0.1', port: Number(process.argv[3]) });
} else {
  await main();
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

/** One batch of spans of the gated service, JSON v2, server spans with HTTP status tags (0.5% errors). */
function spanBatch(): string {
  const now = Date.now() * 1000;
  return JSON.stringify(
    Array.from({ length: SPANS_PER_BATCH }, (_, i) => ({
      traceId: (0x1000000000 + i).toString(16).padStart(16, '0'),
      id: (0x2000000000 + i).toString(16).padStart(16, '0'),
      kind: 'SERVER',
      name: 'get /home',
      timestamp: now - i * 100,
      duration: 2_000 + (i % 50) * 1_000,
      localEndpoint: { serviceName: 'web' },
      tags: {
        'http.method': 'GET',
        'http.route': '/home',
        'http.status_code': i % 200 === 0 ? '503' : '200',
      },
    })),
  );
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((done, fail) => {
    autocannon(options, (error, result) => (error ? fail(error) : done(result)));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sloguard-bench-gate-'));
  const definitions = join(dir, 'slo-definitions');
  mkdirSync(definitions);
  writeFileSync(
    join(definitions, 'web.yaml'),
    `apiVersion: sloguard/v1
kind: SLO
metadata: { name: web-availability, service: web }
spec:
  indicator: { source: traces }
  objective: 99
  window: 28d
`,
  );
  // The per-client limits would refuse a load test from one address: lift them for this run.
  writeFileSync(
    join(dir, 'sloguard.yaml'),
    'rateLimits: { gatePerMinute: 10000000, ingestPerMinute: 10000000 }\n',
  );
  const [port, barePort] = await Promise.all([freePort(), freePort()]);
  const sloguard = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'serve'], {
    env: {
      PATH: process.env.PATH,
      SLOGUARD_CONFIG: join(dir, 'sloguard.yaml'),
      SLOGUARD_PORT: String(port),
      SLOGUARD_DATABASE: join(dir, 'sloguard.db'),
      SLOGUARD_DEFINITIONS: definitions,
      SLOGUARD_EVALUATION_INTERVAL: '5s',
      SLOGUARD_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const bare = spawn(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, '--bare-server', String(barePort)],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const gateUrl = `${url}/api/v1/gate?service=web&environment=production`;
  try {
    await Promise.all([
      waitUntilUp(`${url}/readyz`, sloguard),
      waitUntilUp(`http://127.0.0.1:${barePort}/bare`, bare),
    ]);
    const ingest = (seconds: number) =>
      run({
        url: `${url}/api/v2/spans`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: spanBatch(),
        connections: 4,
        overallRate: SPANS_PER_SECOND / SPANS_PER_BATCH,
        duration: seconds,
      });
    // Warm up both servers and give the evaluator data to decide on.
    await ingest(6);
    await run({ url: gateUrl, connections: 10, amount: 2_000 });
    await run({ url: `http://127.0.0.1:${barePort}/bare`, connections: 10, amount: 2_000 });

    const measure = async (target: string) => {
      const [load, result] = await Promise.all([
        ingest(SECONDS + 1),
        run({ url: target, connections: 10, overallRate: GATE_RATE, duration: SECONDS }),
      ]);
      const spansPerSecond = (load['2xx'] * SPANS_PER_BATCH) / load.duration;
      if (result.non2xx > 0 || result.errors > 0 || load.non2xx > 0) {
        const answer = (await (await fetch(target)).text()).slice(0, 500);
        throw new Error(
          `${target}: ${result.non2xx} non-2xx, ${result.errors} errors, spans non-2xx ${load.non2xx}: ${answer}`,
        );
      }
      return { result, spansPerSecond };
    };
    const gate = await measure(gateUrl);
    const baseline = await measure(`http://127.0.0.1:${barePort}/bare`);
    // The same process's simplest route under the same load: what the gate itself adds.
    const health = await measure(`${url}/healthz`);
    const decision = (await (await fetch(gateUrl)).json()) as {
      decision: string;
      slos: Array<{ sli: number }>;
    };

    process.stdout.write(
      `gate answered "${decision.decision}" (SLI ${decision.slos[0]?.sli}); ${SECONDS} s at ${GATE_RATE} req/s each\n`,
    );
    report('span ingest during gate run', gate.spansPerSecond, 'spans/s', {
      name: 'target',
      value: SPANS_PER_SECOND,
    });
    report('span ingest during bare run', baseline.spansPerSecond, 'spans/s', {
      name: 'target',
      value: SPANS_PER_SECOND,
    });
    report('gate requests', gate.result.requests.average, 'req/s', { name: 'target', value: GATE_RATE });
    // autocannon counts whole milliseconds: a baseline of 0 (under 1 ms) has no ratio.
    const bareP50 = baseline.result.latency.p50;
    report(
      'gate p50',
      gate.result.latency.p50,
      'ms',
      bareP50 > 0 ? { name: 'bare fastify p50', value: bareP50 } : undefined,
    );
    report('gate p99', gate.result.latency.p99, 'ms', {
      name: 'bare fastify p99',
      value: baseline.result.latency.p99,
    });
    report('gate p99', gate.result.latency.p99, 'ms', { name: 'target', value: 5 });
    report('gate p99', gate.result.latency.p99, 'ms', {
      name: 'sloguard /healthz p99 (same process, same load)',
      value: health.result.latency.p99,
    });
    // What the span load costs the gate: the same run without it.
    const quiet = await run({ url: gateUrl, connections: 10, overallRate: GATE_RATE, duration: SECONDS });
    report('gate p99 under span load', gate.result.latency.p99, 'ms', {
      name: 'gate p99 without it',
      value: quiet.latency.p99,
    });
  } finally {
    sloguard.kill('SIGTERM');
    bare.kill('SIGTERM');
    await Promise.all(
      [sloguard, bare].map((child) =>
        child.exitCode === null ? new Promise((r) => child.once('exit', r)) : Promise.resolve(),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}
