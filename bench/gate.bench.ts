/**
 * Deploy gate latency: `GET /api/v1/gate` of a real `sloguard serve` at a constant arrival rate (1,000
 * requests/s, open loop, latency from each request's due time: coordinated omission corrected, bench/paced.ts),
 * against bare fastify (bench/bareFastify.mjs: default settings, one JSON route answering the gate's own answer,
 * run by plain node) in its own process at the same rate in the same round by the same client, while Zipkin spans are
 * posted to sloguard at 50,000 spans/s (100 batches of 500 per second, from a third process), and again
 * without the span load. sloguard's /healthz under the same load shows what the gate adds to the process's
 * own floor. Targets take turns in each round and the p99 ratio is taken within the round.
 * Targets (#23): gate p99 ≤ 1.5× bare fastify's, loaded and quiet; gate p99 ≤ 5 ms.
 *
 *   BENCH_ROUNDS=2 BENCH_ROUND_SECONDS=3 npm run bench -- gate
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import {
  ingestSpans,
  SPANS_PER_BATCH,
  startBareFastify,
  startGateService,
  type Target,
} from './gateTargets.js';
import { HOLD_BOUNDS_MS, holdsText, LoopHoldProbe, type LoopHolds } from './loopHolds.js';
import { Comparison, processCpuMs as cpuMs, envInt, figure, loadNow, rounds } from './method.js';
import { type PacedResult, pacedLoad, quantile } from './paced.js';

const GATE_RATE = envInt('BENCH_GATE_RATE', 1_000);
const SPANS_PER_SECOND = envInt('BENCH_SPANS_PER_SECOND', 50_000);
/** Each target is measured in ROUNDS rounds of ROUND_SECONDS, taking turns. */
const ROUNDS = rounds(5);
const ROUND_SECONDS = envInt('BENCH_ROUND_SECONDS', 5);

if (process.argv[2] === '--span-load') {
  const loading = ingestSpans(process.argv[3]!, Number(process.argv[4]), SPANS_PER_SECOND);
  process.stdout.write('started\n');
  const result = await loading;
  process.stdout.write(
    JSON.stringify({ ok: result['2xx'], non2xx: result.non2xx, duration: result.duration }),
  );
} else {
  await main();
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

/** One paced round against `url`; every answer must be a 2xx. */
async function measure(url: string, seconds = ROUND_SECONDS): Promise<PacedResult> {
  const result = await pacedLoad(url, GATE_RATE, seconds);
  if (result.non2xx > 0 || result.errors > 0) {
    const answer = (await (await fetch(url)).text()).slice(0, 500);
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors: ${answer}`);
  }
  return result;
}

function p99(result: PacedResult): number {
  return quantile(result.latenciesMs, 0.99);
}

/** `load`: the 1-minute load average when the turn ended (the rounds are compared after the last). */
type Measured = PacedResult & { cpuUsPerAnswer: number; load: number; holds?: LoopHolds };

/**
 * Rounds in which the targets take turns (the order rotating), each round printing every target's
 * p50 / p99 / p99.9 / max, the client's own send lag and the server's CPU per answer, and for each target with a
 * probe how long its event loop was held in one piece and waited for a core (bench/loopHolds.ts); returns the
 * results by target, round by round.
 */
async function takeTurns<T extends string>(
  title: string,
  targets: Record<T, Target>,
  probes: Partial<Record<T, LoopHoldProbe>>,
): Promise<Record<T, Measured[]>> {
  const names = Object.keys(targets) as T[];
  const results = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<T, Measured[]>;
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = [];
    for (const name of names.map((_, i) => names[(i + round) % names.length]!)) {
      const { url, pid } = targets[name];
      const cpuBefore = cpuMs(pid);
      const probe = probes[name];
      const { result: paced, holds } = probe
        ? await probe.take(() => measure(url))
        : { result: await measure(url), holds: undefined };
      const result = {
        ...paced,
        cpuUsPerAnswer: ((cpuMs(pid) - cpuBefore) * 1000) / paced.latenciesMs.length,
        load: loadNow(),
        ...(holds && { holds }),
      };
      results[name].push(result);
      const ms = (q: number) => quantile(result.latenciesMs, q).toFixed(2);
      line.push(
        `${name} p50 ${ms(0.5)} p99 ${ms(0.99)} p99.9 ${ms(0.999)} max ${ms(1)} (send lag ${result.sendLagMs.toFixed(1)}, server CPU ${result.cpuUsPerAnswer.toFixed(0)} µs/answer)`,
      );
    }
    process.stdout.write(`  round ${round + 1} ${title} (ms): ${line.join('; ')}\n`);
    for (const name of names) {
      const holds = results[name][round]?.holds;
      if (holds) process.stdout.write(`    ${name}'s event loop in its turn: ${holdsText(holds)}\n`);
    }
  }
  return results;
}

/**
 * The within-round p99 ratio of sloguard's `ours` to `baseline`, printed as min / median / max; then the p99 of
 * every answer of the run on each side (the "p99 in the same run"), which one stalled round moves less.
 */
function compareP99(label: string, ours: Measured[], baselineName: string, baseline: Measured[]) {
  const comparison = new Comparison(label, 'ms', baselineName, 'ours/baseline');
  for (const [i, result] of ours.entries()) comparison.add(p99(result), p99(baseline[i]!), result.load);
  comparison.print();
  const pooled = (results: Measured[]) =>
    quantile(
      results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b),
      0.99,
    );
  const [oursRun, baselineRun] = [pooled(ours), pooled(baseline)];
  process.stdout.write(
    `  over the whole run (every answer of the ${ours.length} rounds): sloguard ${oursRun.toFixed(2)} ms | ${baselineName} ${baselineRun.toFixed(2)} ms | ratio ${(oursRun / baselineRun).toFixed(2)}\n`,
  );
}

async function main(): Promise<void> {
  const service = await startGateService();
  const gateProbe = new LoopHoldProbe(service.sloguard.pid!);
  let bare: Awaited<ReturnType<typeof startBareFastify>> | undefined;
  let bareProbe: LoopHoldProbe | undefined;
  try {
    const { url } = service.sloguard;
    // The baseline answers the gate's own answer, so both sides write the same bytes.
    bare = await startBareFastify(await (await fetch(service.gate.url)).json());
    bareProbe = new LoopHoldProbe(bare.pid);
    const probes = { gate: gateProbe, 'bare fastify': bareProbe };
    const gateUrl = service.gate.url;
    const bareUrl = bare.url;
    await measure(gateUrl, 2);
    await measure(bareUrl, 2);

    const spans = await spanLoad(url, ROUNDS * 3 * (ROUND_SECONDS + 1) + 2);
    const baseline: Target = bare;
    const loaded = await takeTurns(
      'under span load',
      { gate: service.gate, 'bare fastify': baseline, 'sloguard /healthz': service.healthz },
      probes,
    );
    const load = await spans.finished;
    if (load.non2xx > 0) throw new Error(`span load: ${load.non2xx} non-2xx answers`);
    // What the span load costs the gate: the same rounds without it, the bare route taking turns too (an
    // idle virtual machine wakes more slowly, so no load is not always faster).
    const quiet = await takeTurns(
      'without span load',
      { gate: service.gate, 'bare fastify': baseline },
      probes,
    );
    const decision = (await (await fetch(gateUrl)).json()) as {
      decision: string;
      slos: Array<{ sli: number }>;
    };

    process.stdout.write(
      `gate answered "${decision.decision}" (SLI ${decision.slos[0]?.sli}); ${ROUNDS} rounds of ${ROUND_SECONDS} s at ${GATE_RATE} req/s per target, paced, latency from each request's due time\n`,
    );
    figure('span ingest during the loaded rounds', [(load.ok * SPANS_PER_BATCH) / load.duration], 'spans/s');
    figure(
      'gate answers per second, loaded rounds',
      loaded.gate.map((r) => r.rate),
      'req/s',
    );
    compareP99('gate p99 under span load', loaded.gate, 'bare fastify p99', loaded['bare fastify']);
    compareP99(
      'gate p99 under span load',
      loaded.gate,
      'sloguard /healthz p99 (same process)',
      loaded['sloguard /healthz'],
    );
    compareP99('gate p99 without span load', quiet.gate, 'bare fastify p99', quiet['bare fastify']);
    for (const [when, rounds, bareRounds] of [
      ['under span load', loaded.gate, loaded['bare fastify']],
      ['without span load', quiet.gate, quiet['bare fastify']],
    ] as const) {
      const holds = rounds.map((r) => r.holds!);
      figure(
        `longest event-loop hold, ${when}`,
        holds.map((h) => h.longest[0]?.cpuMs ?? 0),
        'ms of CPU',
      );
      figure(
        `event-loop holds of ${HOLD_BOUNDS_MS[2]} ms of CPU or more per round, ${when}`,
        holds.map((h) => h.counts.slice(2).reduce((a, b) => a + b, 0)),
        '',
      );
      figure(
        `sloguard's loop waiting for a core, ${when}`,
        holds.map((h) => h.waitMsPerSecond),
        'ms/s',
      );
      figure(
        `bare fastify's loop waiting for a core, ${when}`,
        bareRounds.map((r) => r.holds!.waitMsPerSecond),
        'ms/s',
      );
      figure(
        `sloguard's loop blocked in the kernel (disk), ${when}`,
        holds.map((h) => h.blocked.msPerSecond),
        'ms/s',
      );
      figure(
        `sloguard's longest block in the kernel, ${when}`,
        holds.map((h) => h.blocked.longestMs[0] ?? 0),
        'ms',
      );
    }
    figure(
      'gate p50 under span load',
      loaded.gate.map((r) => quantile(r.latenciesMs, 0.5)),
      'ms',
    );
    figure(
      'bare fastify p50 under span load',
      loaded['bare fastify'].map((r) => quantile(r.latenciesMs, 0.5)),
      'ms',
    );
    figure(
      'gate p99.9 under span load',
      loaded.gate.map((r) => quantile(r.latenciesMs, 0.999)),
      'ms',
    );
    figure(
      'bare fastify p99.9 under span load',
      loaded['bare fastify'].map((r) => quantile(r.latenciesMs, 0.999)),
      'ms',
    );
  } finally {
    await Promise.all([service.cleanup(), bare?.stop(), gateProbe.stop(), bareProbe?.stop()]);
  }
}
