/**
 * What the gate's service does in the first seconds after a span load starts (issue #23; docs/benchmarks.md, "A
 * span burst's first seconds"). The service as the gate bench starts it (bench/gateTargets.ts), the gate paced at
 * BENCH_GATE_RATE (1,000/s) throughout; after BENCH_BURST_QUIET_SECONDS of the gate alone, the gate bench's span
 * load (its own process, 50,000 spans/s) for BENCH_BURST_SECONDS, BENCH_BURSTS times. Printed per 250 ms from 2 s
 * before each burst, then per 5 s: the gate's answers and p50 / p99 / max; the main thread's CPU and its holds
 * (bench/loopHolds.ts); GCs of the main isolate and of the worker isolates (bench/gcPreload.cjs); CPU by thread
 * (main, span parsers, checkpointer, and the rest: V8's compiler and GC helpers, libuv's pool), the span load's
 * process and this client; the WAL's size; with `--trace-opt --trace-deopt` in BENCH_BURST_NODE_FLAGS, V8's
 * optimizations and deoptimizations (all isolates; the service's stdout is a file, so counted in 4 KB steps).
 *
 *   npx tsx bench/burstTrace.ts                                              # 10 s quiet, 15 s of spans, twice
 *   BENCH_BURST_QUIET_SECONDS=2 BENCH_BURSTS=1 npx tsx bench/burstTrace.ts   # the gate bench's warm-up
 *   BENCH_BURST_NO_SPANS=1 ...                                                # the same schedule without spans
 *   BENCH_BURST_DIST=/work/main/dist ...                                      # another build's dist/
 *
 * The trace's files (GCs, threads, the service's stdout) stay in the printed folder.
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SERVE_NODE_FLAGS } from '../src/cli/nodeFlags.js';
import { tempDir } from '../test/helpers/tmp.js';
import { startGateService } from './gateTargets.js';
import { holdsOf, type Poll } from './loopHolds.js';
import { envInt, loadText } from './method.js';
import { pacedLoad, quantile } from './paced.js';
import { type SpanLoad, startSpanLoad } from './spanLoad.js';

const QUIET_S = envInt('BENCH_BURST_QUIET_SECONDS', 10);
const BURST_S = envInt('BENCH_BURST_SECONDS', 15);
const BURSTS = envInt('BENCH_BURSTS', 2);
const RATE = envInt('BENCH_GATE_RATE', 1_000);
const NO_SPANS = process.env.BENCH_BURST_NO_SPANS === '1';
const NODE_FLAGS = process.env.BENCH_BURST_NODE_FLAGS ?? '';
const DIST = process.env.BENCH_BURST_DIST ?? join(import.meta.dirname, '..', 'dist');
const WINDOW_MS = 250;
const SUMMARY_MS = 5_000;
/** Time for the span load's process to start (node and tsx) before it reports 'started'. */
const SPAWN_ALLOWANCE_S = 4;

const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

const dir = tempDir('sloguard-burst-');
const gcFile = join(dir.path, 'gc.jsonl');
const stdoutFile = join(dir.path, 'stdout.log');
const wrapper = dir.file(
  'sloguard.sh',
  `#!/bin/sh\nGC_OUT=${gcFile} exec ${process.execPath} -r ${join(import.meta.dirname, 'gcPreload.cjs')} ${NODE_FLAGS} ${SERVE_NODE_FLAGS.join(' ')} ${DIST}/cli/main.js "$@" >> ${stdoutFile}\n`,
);
chmodSync(wrapper, 0o755);

/** One sample of the 250 ms series, all times in ms of process.hrtime. */
interface Sample {
  atMs: number;
  /** Run time of each of the service's threads by thread id, ns (schedstat). */
  threads: Record<string, number>;
  walBytes: number;
  /** Run time of the other processes (span load, this client), ns, all their threads. */
  others: Record<string, number>;
  stdoutBytes: number;
}

/** [hrtime ms at its start, ms, kind, threadId (0: the main isolate)] */
type Gc = [number, number, string, number];

/**
 * The poller, plain JavaScript on its own thread (so the client's work does not delay it): the main thread's
 * schedstat every ms (holds), and every WINDOW_MS each thread's run time, the WAL's size, the other processes'
 * run time and the service's stdout size.
 */
const SAMPLER = `
const { readFileSync, readdirSync, statSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const { pid, wal, stdout } = workerData;
const others = { ...workerData.others };
const polls = [];
const samples = [];
const now = () => Number(process.hrtime.bigint());
const main = '/proc/' + pid + '/task/' + pid + '/schedstat';
const runNs = (p, tid) => Number(readFileSync('/proc/' + p + '/task/' + tid + '/schedstat', 'utf8').split(' ')[0]);
const size = (file) => { try { return statSync(file).size; } catch { return 0; } };
// A thread or process may end between listing and reading: it is left out of that sample.
const threads = (p) => {
  const byThread = {};
  for (const tid of readdirSync('/proc/' + p + '/task')) {
    try { byThread[tid] = runNs(p, tid); } catch {}
  }
  return byThread;
};
const fast = setInterval(() => {
  try {
    const [run, wait] = readFileSync(main, 'utf8').split(' ');
    polls.push([now(), Number(run), Number(wait)]);
  } catch {}
}, 1);
const slow = setInterval(() => {
  try {
    const other = {};
    for (const [name, p] of Object.entries(others)) {
      try { other[name] = Object.values(threads(p)).reduce((a, b) => a + b, 0); } catch {}
    }
    samples.push({ atMs: now() / 1e6, threads: threads(pid), walBytes: size(wal), others: other, stdoutBytes: size(stdout) });
  } catch {}
}, ${WINDOW_MS});
parentPort.on('message', (message) => {
  if (message.others) Object.assign(others, message.others);
  else {
    clearInterval(fast);
    clearInterval(slow);
    parentPort.postMessage({ polls, samples });
  }
});
`;

const sleepUntil = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - hrMs())));

/** Worker threads by OS thread id, named by their workerData (written by the preload as each starts). */
function workerNames(): Map<string, string> {
  const names = new Map<string, string>();
  const file = `${gcFile}.threads`;
  if (!existsSync(file)) return names;
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [tid, , keys] = JSON.parse(line) as [string, number, string];
    const name = keys.includes('templates')
      ? 'parsers'
      : keys.includes('intervalMs')
        ? 'checkpointer'
        : 'workers';
    names.set(tid, name);
  }
  return names;
}

interface Trace {
  pid: number;
  answered: Array<{ dueMs: number; latencyMs: number }>;
  polls: Poll[];
  samples: Sample[];
  gcs: Gc[];
  names: Map<string, string>;
  stdout: Buffer;
}

/** One window's figures, as a line. */
function windowLine(trace: Trace, fromMs: number, toMs: number, zeroMs: number): string {
  const { pid, answered, polls, samples, gcs, names, stdout } = trace;
  const latencies = answered
    .filter((a) => a.dueMs >= fromMs && a.dueMs < toMs)
    .map((a) => a.latencyMs)
    .sort((a, b) => a - b);
  const holds = holdsOf(polls.filter((p) => p[0] / 1e6 >= fromMs && p[0] / 1e6 < toMs));
  const inWindow = gcs.filter((gc) => gc[0] >= fromMs && gc[0] < toMs);
  const mainGcs = inWindow.filter((gc) => gc[3] === 0);
  // The window's CPU runs from the last sample at or before its start to the last at or before its end: one
  // sampling interval for a window of that length, never an empty one.
  const first = samples.findLast((s) => s.atMs <= fromMs) ?? samples[0];
  const last = samples.findLast((s) => s.atMs <= toMs);
  const cpu: Record<string, number> = {};
  const others: Record<string, number> = {};
  let optimized = 0;
  let deoptimized = 0;
  if (first && last && first !== last) {
    for (const [tid, runNs] of Object.entries(last.threads)) {
      const group = tid === String(pid) ? 'main' : (names.get(tid) ?? 'other');
      cpu[group] = (cpu[group] ?? 0) + (runNs - (first.threads[tid] ?? 0)) / 1e6;
    }
    // A process that starts or ends inside the window (a span load) counts between its first and last sample in it.
    for (const name of new Set(samples.flatMap((s) => Object.keys(s.others)))) {
      const seen = samples.filter((s) => s.atMs >= first.atMs && s.atMs <= last.atMs && name in s.others);
      if (seen.length > 1) others[name] = (seen.at(-1)!.others[name]! - seen[0]!.others[name]!) / 1e6;
    }
    const text = stdout.subarray(first.stdoutBytes, last.stdoutBytes).toString();
    optimized = text.match(/completed optimizing/g)?.length ?? 0;
    deoptimized = text.match(/bailout \(kind/g)?.length ?? 0;
  }
  const total = Object.values(cpu).reduce((a, b) => a + b, 0);
  const spanLoadMs = Object.entries(others)
    .filter(([name]) => name.startsWith('spans'))
    .reduce((a, [, ms]) => a + ms, 0);
  const ms = (q: number) => (latencies.length ? quantile(latencies, q).toFixed(2) : '-').padStart(6);
  const held = (from: number) => holds.counts.slice(from).reduce((a, b) => a + b, 0);
  const byThread = Object.entries(cpu)
    .filter(([, v]) => v >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([name, v]) => `${name} ${v.toFixed(0)}`)
    .join(' ');
  return [
    `${((fromMs - zeroMs) / 1000).toFixed(2).padStart(6)} ${String(latencies.length).padStart(5)} ${ms(0.5)} ${ms(0.99)} ${ms(1)}`,
    `${holds.cpuMsPerSecond.toFixed(0).padStart(4)} ${String(held(0)).padStart(3)} ${String(held(2)).padStart(2)} ${(holds.longest[0]?.cpuMs ?? 0).toFixed(1).padStart(5)}`,
    `${String(mainGcs.length).padStart(3)} ${mainGcs.reduce((a, gc) => a + gc[1], 0).toFixed(1)} ms, ${mainGcs.filter((gc) => gc[2] !== 'minor').length} not minor; workers ${inWindow.length - mainGcs.length}`,
    `${total.toFixed(0)} ms (${byThread})${latencies.length ? `, ${((total * 1000) / latencies.length).toFixed(0)} µs/answer` : ''}`,
    `${spanLoadMs.toFixed(0)} ${(others.client ?? 0).toFixed(0)}`,
    `${((last?.walBytes ?? 0) / 1e6).toFixed(1)}`,
    `${optimized} ${deoptimized}`,
  ].join(' | ');
}

const HEADER =
  '  t (s)     n    p50    p99    max | loop ms/s, holds ≥1 ms, ≥5 ms, longest | main GCs | service CPU by thread | span load, client CPU ms | WAL MB | opt deopt';

function report(trace: Trace, bursts: number[]): void {
  for (const [b, zero] of bursts.entries()) {
    process.stdout.write(
      `\nburst ${b + 1} (t = 0 when the span load reports 'started'), per ${WINDOW_MS} ms:\n${HEADER}\n`,
    );
    for (let from = zero - 2_000; from < zero + BURST_S * 1000; from += WINDOW_MS)
      process.stdout.write(`${windowLine(trace, from, from + WINDOW_MS, zero)}\n`);
    process.stdout.write(`burst ${b + 1}, per ${SUMMARY_MS / 1000} s:\n`);
    for (let from = zero - SUMMARY_MS; from < zero + BURST_S * 1000; from += SUMMARY_MS)
      process.stdout.write(`${windowLine(trace, from, from + SUMMARY_MS, zero)}\n`);
  }
}

async function main(): Promise<void> {
  process.stdout.write(`trace files in ${dir.path}; service ${DIST}; ${loadText()}\n`);
  const service = await startGateService(wrapper);
  const pid = service.sloguard.pid!;
  const sampler = new Worker(SAMPLER, {
    eval: true,
    workerData: {
      pid,
      wal: `${service.sloguard.databasePath}-wal`,
      stdout: stdoutFile,
      others: { client: process.pid },
    },
  });
  // The span load under way, stopped if the trace fails before it ends.
  let spans: SpanLoad | undefined;
  try {
    // Paced past the last burst's end, whatever the span load's start-up took.
    const pacing = pacedLoad(service.gate.url, RATE, BURSTS * (QUIET_S + BURST_S + SPAWN_ALLOWANCE_S));
    const bursts: number[] = [];
    let quietFrom = hrMs();
    for (let b = 0; b < BURSTS; b++) {
      await sleepUntil(quietFrom + QUIET_S * 1000);
      if (NO_SPANS) {
        bursts.push(hrMs());
        await sleepUntil(bursts.at(-1)! + BURST_S * 1000);
      } else {
        spans = await startSpanLoad(service.sloguard.url);
        const startedMs = hrMs();
        // One name per span load process: each burst's counts from its own start.
        sampler.postMessage({ others: { [`spans${b}`]: spans.pid } });
        bursts.push(startedMs);
        await sleepUntil(startedMs + BURST_S * 1000);
        process.stdout.write(`burst ${b + 1}: ${JSON.stringify(await spans.stop())}\n`);
      }
      quietFrom = hrMs();
    }
    const paced = await pacing;
    const stopped = new Promise<{ polls: Poll[]; samples: Sample[] }>((resolve) =>
      sampler.once('message', resolve),
    );
    sampler.postMessage('stop');
    const { polls, samples } = await stopped;
    // The preload writes its GCs every 500 ms.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const gcs = existsSync(gcFile)
      ? readFileSync(gcFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Gc)
      : [];
    process.stdout.write(
      `paced ${paced.latenciesMs.length} answers, ${paced.non2xx} non-2xx, ${paced.errors} errors; ${loadText()}\n`,
    );
    report(
      {
        pid,
        answered: paced.answered,
        polls,
        samples,
        gcs,
        names: workerNames(),
        stdout: readFileSync(stdoutFile),
      },
      bursts,
    );
  } finally {
    await spans?.stop().catch(() => undefined);
    await sampler.terminate();
    await service.cleanup();
  }
}

await main();
