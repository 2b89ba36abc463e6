/**
 * Deploy gate latency under load: p50/p99 of `GET /api/v1/gate` at 1,000 requests/s (autocannon) against a
 * real `sloguard serve`, while Zipkin spans are posted to the same process at 50,000 spans/s
 * (`POST /api/v2/spans`, 100 batches of 500 per second). Baseline in the same run: a bare fastify route in its
 * own process, hit at the same rate while the span load keeps running; sloguard's own /healthz under the same
 * load (what the gate itself adds); and the gate again without the span load (what ingest costs it). The
 * targets take turns in rounds and each figure is the median of its rounds (every round is printed).
 * Target: gate p99 ≤ 5 ms.
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { freePort } from '../test/helpers/ports.js';
import { stopChild } from '../test/helpers/process.js';
import { SloguardProcess } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { waitFor } from '../test/helpers/wait.js';
import { median, report } from './report.js';

const GATE_RATE = Number(process.env.BENCH_GATE_RATE ?? 1_000);
const SPANS_PER_SECOND = Number(process.env.BENCH_SPANS_PER_SECOND ?? 50_000);
/** OpenTelemetry's batch span processor exports at most 512 spans per request; Zipkin reporters similar. */
const SPANS_PER_BATCH = Number(process.env.BENCH_SPANS_PER_BATCH ?? 500);
/** Each target is measured in ROUNDS rounds of ROUND_SECONDS, taking turns. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 5);

/** The bare baseline: the smallest fastify app answering JSON, run as its own process like sloguard. */
if (process.argv[2] === '--bare-server') {
  const app = Fastify();
  app.get('/bare', async () => ({ allowed: true, decision: 'allow' }));
  await app.listen({ host: '127.0.0.1', port: Number(process.argv[3]) });
} else if (process.argv[2] === '--span-load') {
  const loading = ingest(process.argv[3]!, Number(process.argv[4]));
  process.stdout.write('started\n');
  const result = await loading;
  process.stdout.write(
    JSON.stringify({ ok: result['2xx'], non2xx: result.non2xx, duration: result.duration }),
  );
} else {
  await main();
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

function ingest(url: string, seconds: number): Promise<autocannon.Result> {
  return run({
    url: `${url}/api/v2/spans`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: spanBatch(),
    connections: 4,
    overallRate: SPANS_PER_SECOND / SPANS_PER_BATCH,
    duration: seconds,
  });
}

interface SpanLoad {
  ok: number;
  non2xx: number;
  duration: number;
}

/**
 * The span load from its own process, as it would come from other machines: sharing the measuring client's
 * event loop, sending 15 MB/s would delay the timing of the gate requests themselves. It runs at a lower
 * priority for the same reason: on other machines it would not take CPU from the service being measured.
 * The rate it reaches is checked and reported.
 */
async function spanLoad(url: string, seconds: number): Promise<{ finished: Promise<SpanLoad> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, '--span-load', url, String(seconds)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.pid !== undefined) setPriority(child.pid, 10);
  let out = '';
  let started: () => void;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('started\n')) started();
  });
  const finished = new Promise<SpanLoad>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0
        ? done(JSON.parse(out.slice('started\n'.length)) as SpanLoad)
        : fail(new Error(`span load exited with ${code}`)),
    );
  });
  await Promise.race([running, finished]);
  return { finished };
}

async function main(): Promise<void> {
  const dir = tempDir('sloguard-bench-gate-');
  dir.file(
    'web.yaml',
    `apiVersion: sloguard/v1
kind: SLO
metadata: { name: web-availability, service: web }
spec:
  indicator: { source: traces }
  objective: 99
  window: 28d
`,
  );
  // The per-client limits would refuse a load test from one address: lift them for this run. The log level is
  // the service's default (the tests' helper starts it at warn).
  const settings = tempDir('sloguard-bench-gate-config-');
  const config = settings.file(
    'sloguard.yaml',
    'rateLimits: { gatePerMinute: 10000000, ingestPerMinute: 10000000 }\n',
  );
  const barePort = await freePort();
  const bare = spawn(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, '--bare-server', String(barePort)],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const bareUrl = `http://127.0.0.1:${barePort}/bare`;
  let sloguard: SloguardProcess | undefined;
  try {
    sloguard = await SloguardProcess.start({
      definitions: dir.path,
      env: { SLOGUARD_CONFIG: config, SLOGUARD_EVALUATION_INTERVAL: '5s', SLOGUARD_LOG_LEVEL: 'info' },
    });
    const { url } = sloguard;
    const gateUrl = `${url}/api/v1/gate?service=web&environment=production`;
    await waitFor('bare fastify', async () => {
      if (bare.exitCode !== null) throw new Error(`bare server exited with ${bare.exitCode}`);
      return (await fetch(bareUrl)).ok;
    });
    // Warm up both servers and give the evaluator data to decide on.
    await ingest(url, 6);
    await run({ url: gateUrl, connections: 10, amount: 2_000 });
    await run({ url: bareUrl, connections: 10, amount: 2_000 });

    const targets = {
      gate: gateUrl,
      'bare fastify': bareUrl,
      'sloguard /healthz': `${url}/healthz`,
    };
    type Target = keyof typeof targets;
    const p99s: Record<Target, number[]> = { gate: [], 'bare fastify': [], 'sloguard /healthz': [] };
    const p50s: Record<Target, number[]> = { gate: [], 'bare fastify': [], 'sloguard /healthz': [] };
    const measure = async (name: Target) => {
      const target = targets[name];
      const result = await run({
        url: target,
        connections: 10,
        overallRate: GATE_RATE,
        duration: ROUND_SECONDS,
      });
      if (result.non2xx > 0 || result.errors > 0) {
        const answer = (await (await fetch(target)).text()).slice(0, 500);
        throw new Error(`${target}: ${result.non2xx} non-2xx, ${result.errors} errors: ${answer}`);
      }
      p99s[name].push(result.latency.p99);
      p50s[name].push(result.latency.p50);
      return result;
    };
    // Rounds take turns under one continuous span load, so a noisy moment of this 2-core machine falls on
    // every target alike rather than on whichever ran then.
    const names = Object.keys(targets) as Target[];
    const spans = await spanLoad(url, ROUNDS * names.length * (ROUND_SECONDS + 1) + 2);
    let gateRequests = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const name of names) {
        const result = await measure(name);
        if (name === 'gate') gateRequests += result.requests.total;
        line.push(`${name} p50 ${result.latency.p50} p99 ${result.latency.p99}`);
      }
      process.stdout.write(`round ${round} under span load (ms): ${line.join(', ')}\n`);
    }
    const load = await spans.finished;
    if (load.non2xx > 0) throw new Error(`span load: ${load.non2xx} non-2xx answers`);
    const decision = (await (await fetch(gateUrl)).json()) as {
      decision: string;
      slos: Array<{ sli: number }>;
    };
    // What the span load costs the gate: the same rounds without it, the bare route taking turns too (an
    // idle virtual machine wakes more slowly, so no load is not always faster).
    const quiet = { gate: [] as number[], bare: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, target] of [
        ['gate', gateUrl],
        ['bare', targets['bare fastify']],
      ] as const) {
        const result = await run({
          url: target,
          connections: 10,
          overallRate: GATE_RATE,
          duration: ROUND_SECONDS,
        });
        quiet[name].push(result.latency.p99);
      }
    }
    process.stdout.write(
      `p99 per round without span load (ms): gate ${quiet.gate.join(', ')}; bare fastify ${quiet.bare.join(', ')}\n`,
    );

    process.stdout.write(
      `gate answered "${decision.decision}" (SLI ${decision.slos[0]?.sli}); ${ROUNDS} rounds of ${ROUND_SECONDS} s at ${GATE_RATE} req/s per target; figures are the median of the rounds\n`,
    );
    report('span ingest', (load.ok * SPANS_PER_BATCH) / load.duration, 'spans/s', {
      name: 'target',
      value: SPANS_PER_SECOND,
    });
    report('gate requests', gateRequests / (ROUNDS * ROUND_SECONDS), 'req/s', {
      name: 'target',
      value: GATE_RATE,
    });
    // autocannon counts whole milliseconds: a baseline of 0 (under 1 ms) has no ratio.
    const bareP50 = median(p50s['bare fastify']);
    report(
      'gate p50',
      median(p50s.gate),
      'ms',
      bareP50 > 0 ? { name: 'bare fastify p50', value: bareP50 } : undefined,
    );
    const gateP99 = median(p99s.gate);
    report('gate p99', gateP99, 'ms', { name: 'bare fastify p99', value: median(p99s['bare fastify']) });
    report('gate p99', gateP99, 'ms', { name: 'target', value: 5 });
    report('gate p99', gateP99, 'ms', {
      name: 'sloguard /healthz p99 (same process, same load)',
      value: median(p99s['sloguard /healthz']),
    });
    report('gate p99 under span load', gateP99, 'ms', {
      name: 'gate p99 without it',
      value: median(quiet.gate),
    });
    report('gate p99 without span load', median(quiet.gate), 'ms', {
      name: 'bare fastify p99 without span load',
      value: median(quiet.bare),
    });
  } finally {
    await Promise.all([sloguard?.cleanup(), stopChild(bare)]);
    dir.cleanup();
    settings.cleanup();
  }
}
