/**
 * Spans per second through `POST /api/v2/spans`: JSON batches of 500 spans over HTTP on loopback, autocannon
 * with 10 connections, validated, mapped and committed to SQLite (202 only after commit). Baseline in the same
 * run: a bare single-threaded fastify route that only JSON.parses the same body and answers 202. Targets:
 * ≥ 200k spans/s and (#23) ≥ 1.0× the baseline within each round. Each server runs in its own process (`sloguard serve`; this file with `serve`), so the load
 * generator and the server do not share a core; rounds alternate between the two so a burst of load from
 * elsewhere does not fall on one side only, and the ratio is taken within each round (bench/method.ts). Each
 * round also prints where each server's CPU went (/proc, per thread): its event loop's busy share and CPU per
 * batch, and the CPU per batch of its other threads (span parsing threads, V8's helpers, the WAL checkpoint).
 *
 *   BENCH_ROUNDS=2 BENCH_SECONDS=3 npm run bench -- spans
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { SloguardProcess } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { serveBare, startBare } from './bareBaseline.js';
import { AS_IN_PRODUCTION, Comparison, envInt, formatSpread, rounds, spread } from './method.js';

const SPANS_PER_BATCH = 500;
const SECONDS = envInt('BENCH_SECONDS', 5);
/** The machine is shared: both servers are measured in alternating rounds, the ratio taken within each. */
const ROUNDS = rounds(5);
const CONNECTIONS = 10;

const SLO = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: catalog-latency, service: catalog }
spec: { indicator: { source: traces, good: { latency: "<= 250ms" } }, objective: 99, window: 28d }
`;

/** A batch as an OpenTelemetry app would send it: mostly server spans of a few services and routes. */
function spanBatch(nowUs: number): string {
  const services = ['catalog', 'checkout', 'search', 'profile', 'gateway'];
  const routes = ['/api/items/:id', '/api/cart', '/api/search', '/api/users/:id', '/health'];
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const spans = [];
  for (let i = 0; i < SPANS_PER_BATCH; i++) {
    const route = routes[i % routes.length]!;
    const server = i % 10 !== 9;
    spans.push({
      traceId: `5af7183fb1d4cf5f${hex(i * 7919 + 1, 16)}`,
      parentId: i % 3 === 0 ? undefined : hex(i + 1, 16),
      id: hex(0x1000 + i, 16),
      kind: server ? 'SERVER' : 'CLIENT',
      name: `get ${route}`,
      timestamp: nowUs - i * 1000,
      duration: 1000 + ((i * 7331) % 400_000),
      localEndpoint: { serviceName: services[i % services.length], ipv4: '10.1.2.3', port: 8080 },
      remoteEndpoint: { ipv4: '10.9.8.7', port: 51000 + i },
      tags: {
        'http.request.method': 'GET',
        'http.route': route,
        'url.path': route.replace(':id', String(i)),
        'url.scheme': 'http',
        'http.response.status_code': i % 50 === 0 ? '503' : '200',
        'server.address': 'catalog.internal',
        'network.protocol.version': '1.1',
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) bench',
      },
    });
  }
  return JSON.stringify(spans);
}

/** The bare baseline's server mode: prints its URL on stdout, then serves until killed. */
async function serveBaseline(): Promise<void> {
  {
    const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, JSON.parse(body as string)),
    );
    app.post('/api/v2/spans', async (_request, reply) => reply.code(202).send());
    await serveBare(app);
  }
}

async function startBaseline(): Promise<Side> {
  return { ...(await startBare(import.meta.filename)), answered: 0, cpu: [] };
}

/**
 * `sloguard serve` as it runs in production, with one trace SLO and no evaluation during the run. The database
 * lies beside the definitions folder, not in it: the folder is watched for reloads, and every write to a
 * database inside it would wake the watch (Node's recursive watch on Linux rescans the folder on each event).
 */
async function startSloguard(
  dir: ReturnType<typeof tempDir>,
  definitions: ReturnType<typeof tempDir>,
): Promise<Side> {
  definitions.file('catalog.yaml', SLO);
  const service = await SloguardProcess.start({
    definitions: definitions.path,
    databasePath: join(dir.path, 'sloguard.db'),
    // The figure is ingest alone.
    env: { ...AS_IN_PRODUCTION, SLOGUARD_EVALUATION_INTERVAL: '1h' },
  });
  return { url: service.url, pid: service.pid!, answered: 0, cpu: [], stop: () => service.cleanup() };
}

/** CPU seconds each thread of a process has used so far (Linux /proc), by thread id. */
function threadCpuSeconds(pid: number): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 Hz).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return seconds;
}

/** One round's CPU of a server: its event loop (the main thread) and every other thread, per batch answered. */
interface RoundCpu {
  /** Share of the round's wall time the event loop was on a CPU. */
  eventLoopBusy: number;
  eventLoopMsPerBatch: number;
  otherThreadsMsPerBatch: number;
}

function roundCpu(
  pid: number,
  before: Map<number, number>,
  after: Map<number, number>,
  seconds: number,
  batches: number,
): RoundCpu {
  let eventLoop = 0;
  let others = 0;
  for (const [tid, total] of after) {
    const used = total - (before.get(tid) ?? 0);
    if (tid === pid) eventLoop += used;
    else others += used;
  }
  return {
    eventLoopBusy: eventLoop / seconds,
    eventLoopMsPerBatch: (eventLoop * 1000) / batches,
    otherThreadsMsPerBatch: (others * 1000) / batches,
  };
}

const cpuText = (cpu: RoundCpu) =>
  `event loop ${(cpu.eventLoopBusy * 100).toFixed(0)}% busy, ${cpu.eventLoopMsPerBatch.toFixed(3)} ms CPU per batch; other threads ${cpu.otherThreadsMsPerBatch.toFixed(3)} ms per batch`;

/** One round at 10 connections: the batches answered; every answer must be 202. */
async function round(url: string, body: string, seconds: number): Promise<number> {
  const result = await autocannon({
    url: `${url}/api/v2/spans`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return result.requests.total;
}

interface Side {
  url: string;
  pid: number;
  /** CPU of each measured round. */
  cpu: RoundCpu[];
  /** Batches answered in all rounds, warm-up included. */
  answered: number;
  stop(): Promise<void>;
}

if (process.argv[2] === 'serve') {
  await serveBaseline();
} else {
  const body = spanBatch(Date.now() * 1000);
  const sides: Side[] = [];
  const dir = tempDir('sloguard-bench-spans-');
  const definitions = tempDir('sloguard-bench-spans-definitions-');
  try {
    sides.push(await startBaseline(), await startSloguard(dir, definitions));
    for (const side of sides) side.answered += await round(side.url, body, 2);
    const comparison = new Comparison(
      `POST /api/v2/spans, JSON batches of ${SPANS_PER_BATCH}, ${CONNECTIONS} connections, validated and committed`,
      'spans/s',
      'bare fastify route (JSON.parse, 202)',
      'ours/baseline',
    );
    for (let i = 0; i < ROUNDS; i++) {
      // Which side goes first alternates, so neither always follows the other's teardown of a round.
      const spansPerSecond = new Map<Side, number>();
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const before = threadCpuSeconds(side.pid);
        const batches = await round(side.url, body, SECONDS);
        side.cpu.push(roundCpu(side.pid, before, threadCpuSeconds(side.pid), SECONDS, batches));
        side.answered += batches;
        spansPerSecond.set(side, (batches / SECONDS) * SPANS_PER_BATCH);
      }
      comparison.add(spansPerSecond.get(sides[1]!)!, spansPerSecond.get(sides[0]!)!);
      for (const [side, name] of [
        [sides[1]!, 'sloguard'],
        [sides[0]!, 'bare route'],
      ] as const)
        process.stdout.write(`    ${name}: ${cpuText(side.cpu.at(-1)!)}\n`);
    }
    const ours = sides[1]!;
    await ours.stop();
    // Every span of every answered batch must be in the committed buckets (autocannon does not count the
    // answers still in flight when a round ends, so a few more may be stored).
    const db = new Database(join(dir.path, 'sloguard.db'), { readonly: true });
    const stored = (db.prepare('SELECT SUM(total) AS n FROM minute_buckets').get() as { n: number }).n;
    db.close();
    if (stored < ours.answered * SPANS_PER_BATCH) {
      throw new Error(`${stored} spans stored for ${ours.answered} batches of ${SPANS_PER_BATCH}`);
    }
    comparison.print();
    for (const [side, name] of [
      [sides[1]!, 'sloguard'],
      [sides[0]!, 'bare route'],
    ] as const) {
      const of = (pick: (cpu: RoundCpu) => number) => formatSpread(spread(side.cpu.map(pick)));
      process.stdout.write(
        `  ${name}: event loop busy ${of((cpu) => cpu.eventLoopBusy * 100)} %, ${of((cpu) => cpu.eventLoopMsPerBatch)} ms CPU per batch on the event loop, ${of((cpu) => cpu.otherThreadsMsPerBatch)} ms on other threads\n`,
      );
    }
  } finally {
    for (const side of sides) await side.stop();
    dir.cleanup();
    definitions.cleanup();
  }
}
