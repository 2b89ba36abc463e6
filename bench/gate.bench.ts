/**
 * Deploy gate latency: `GET /api/v1/gate` of a real `sloguard serve` at a constant arrival rate (1,000
 * requests/s, open loop, latency from each request's due time: coordinated omission corrected, bench/paced.ts),
 * against bare fastify (bench/bareFastify.mjs: default settings, one JSON route answering the gate's own answer,
 * run by plain node) in its own process at the same rate in the same round by the same client, while Zipkin spans are
 * posted to sloguard at 50,000 spans/s (100 batches of 500 per second, from a third process), and again
 * without the span load. sloguard's /healthz under the same load shows what the gate adds to the process's
 * own floor. The gate and bare fastify are paced at once by one client (a process of its own, warmed first), so a
 * stall of the client or the machine falls on both alike; /healthz has a turn of its own (beside bare fastify again), the
 * order rotating; every p99 ratio is taken within its round.
 * Targets (#23): gate p99 ≤ 1.5× bare fastify's, loaded and quiet; gate p99 ≤ 5 ms.
 *
 *   BENCH_ROUNDS=2 BENCH_ROUND_SECONDS=3 npm run bench -- gate
 */
import { SPANS_PER_BATCH, startBareFastify, startGateService, type Target } from './gateTargets.js';
import { HOLD_BOUNDS_MS, holdsText, LoopHoldProbe, type LoopHolds } from './loopHolds.js';
import { Comparison, processCpuMs as cpuMs, envInt, figure, loadNow, rounds } from './method.js';
import { type ClientGc, PacedClientProcess, type PacedResult, type PacedRun, quantile } from './paced.js';
import { type SpanLoad, startSpanLoad } from './spanLoad.js';

const GATE_RATE = envInt('BENCH_GATE_RATE', 1_000);
/** Each target is measured in ROUNDS rounds of ROUND_SECONDS, taking turns. */
const ROUNDS = rounds(5);
const ROUND_SECONDS = envInt('BENCH_ROUND_SECONDS', 5);
/**
 * Every target is paced this long before the span load starts and again under it before the loaded rounds, not
 * counted: V8 is still optimising the serving code (bare fastify's too) for about 10 s after the first requests,
 * and a first round taken then cost every target more CPU an answer (docs/benchmarks.md, "A span burst's first
 * seconds").
 */
const SETTLE_SECONDS = 5;
await main();

/**
 * One paced turn: every URL of `urls` at once, from the bench's client process (bench/paced.ts
 * `PacedClientProcess`). Every answer must be a 2xx.
 */
async function pacedTurn(
  client: PacedClientProcess,
  urls: string[],
  seconds = ROUND_SECONDS,
): Promise<PacedRun> {
  const run = await client.run(urls, GATE_RATE, seconds);
  for (const [i, result] of run.results.entries()) {
    if (result.non2xx > 0 || result.errors > 0) {
      const answer = (await (await fetch(urls[i]!)).text()).slice(0, 500);
      throw new Error(`${urls[i]}: ${result.non2xx} non-2xx, ${result.errors} errors: ${answer}`);
    }
  }
  return run;
}

/** Runs `send` inside every probe's window. */
async function probed<R>(
  probes: readonly LoopHoldProbe[],
  send: () => Promise<R>,
): Promise<{ result: R; holds: LoopHolds[] }> {
  const [first, ...rest] = probes;
  if (!first) return { result: await send(), holds: [] };
  const { result, holds } = await first.take(() => probed(rest, send));
  return { result: result.result, holds: [holds, ...result.holds] };
}

function p99(result: PacedResult): number {
  return quantile(result.latenciesMs, 0.99);
}

/** `load`: the 1-minute load average when the turn ended (the rounds are compared after the last). */
type Measured = PacedResult & { clientGc: ClientGc; cpuUsPerAnswer: number; load: number; holds?: LoopHolds };

/**
 * Rounds of turns (the order rotating), the targets of a turn paced at once by `client` so that a stall of the
 * client or the machine falls on them alike; each round prints every target's p50 / p99 / p99.9 / max, the
 * client's own send lag and longest collection, and the server's CPU per answer, and for each target with a
 * probe how long its event loop was held in one piece and waited for a core (bench/loopHolds.ts). Returns the
 * results by target, round by round. A target may be one process under two names, one per turn.
 */
async function takeTurns<T extends string>(
  client: PacedClientProcess,
  title: string,
  targets: Record<T, Target>,
  turns: ReadonlyArray<readonly T[]>,
  probes: Partial<Record<T, LoopHoldProbe>>,
): Promise<Record<T, Measured[]>> {
  const names = turns.flat();
  const results = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<T, Measured[]>;
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = [];
    for (const turn of turns.map((_, i) => turns[(i + round) % turns.length]!)) {
      const cpuBefore = turn.map((name) => cpuMs(targets[name].pid));
      const turnProbes = turn.flatMap((name) => probes[name] ?? []);
      const { result: run, holds } = await probed(turnProbes, () =>
        pacedTurn(
          client,
          turn.map((name) => targets[name].url),
        ),
      );
      for (const [i, name] of turn.entries()) {
        const paced = run.results[i]!;
        const probe = probes[name];
        const result: Measured = {
          ...paced,
          clientGc: run.clientGc,
          cpuUsPerAnswer: ((cpuMs(targets[name].pid) - cpuBefore[i]!) * 1000) / paced.latenciesMs.length,
          load: loadNow(),
          ...(probe && { holds: holds[turnProbes.indexOf(probe)] }),
        };
        results[name].push(result);
        const ms = (q: number) => quantile(result.latenciesMs, q).toFixed(2);
        line.push(
          `${name} p50 ${ms(0.5)} p99 ${ms(0.99)} p99.9 ${ms(0.999)} max ${ms(1)} (send lag ${result.sendLagMs.toFixed(1)}; server CPU ${result.cpuUsPerAnswer.toFixed(0)} µs/answer)`,
        );
      }
      line.push(`client's longest GC ${run.clientGc.longestMs.toFixed(1)} ms (${run.clientGc.majors} full)`);
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
  let client: PacedClientProcess | undefined;
  let spans: SpanLoad | undefined;
  try {
    client = await PacedClientProcess.start();
    const { url } = service.sloguard;
    // The baseline answers the gate's own answer, so both sides write the same bytes.
    bare = await startBareFastify(await (await fetch(service.gate.url)).json());
    bareProbe = new LoopHoldProbe(bare.pid);
    const probes = {
      gate: gateProbe,
      'bare fastify': bareProbe,
      'sloguard /healthz': gateProbe,
      'bare fastify beside /healthz': bareProbe,
    };
    const gateUrl = service.gate.url;
    const targets = {
      gate: service.gate,
      'bare fastify': bare,
      'sloguard /healthz': service.healthz,
      'bare fastify beside /healthz': bare,
    };
    // Also the client's first run, which warms its own code.
    const warm = () => pacedTurn(client!, [gateUrl, bare!.url, service.healthz.url], SETTLE_SECONDS);
    await warm();

    spans = await startSpanLoad(url);
    // Measured in the load's steady state, as engines are (the method's rule): every target is paced for a
    // moment under the span load before the rounds start.
    await warm();
    const loaded = await takeTurns(
      client,
      'under span load',
      targets,
      [
        ['gate', 'bare fastify'],
        ['sloguard /healthz', 'bare fastify beside /healthz'],
      ],
      probes,
    );
    const load = await spans.stop();
    if (load.non2xx > 0) throw new Error(`span load: ${load.non2xx} non-2xx answers`);
    // What the span load costs the gate: the same rounds without it, the bare route beside it too (an idle
    // virtual machine wakes more slowly, so no load is not always faster).
    const quiet = await takeTurns(client, 'without span load', targets, [['gate', 'bare fastify']], probes);
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
      'sloguard /healthz p99 under span load',
      loaded['sloguard /healthz'],
      'bare fastify p99 beside it',
      loaded['bare fastify beside /healthz'],
    );
    compareP99(
      'gate p99 under span load',
      loaded.gate,
      'sloguard /healthz p99 (same process, its own turn)',
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
    for (const [when, rounds] of [
      ['under span load', loaded],
      ['without span load', quiet],
    ] as const) {
      figure(
        `the paced client's longest GC pause in the gate's turn, ${when}`,
        rounds.gate.map((r) => r.clientGc.longestMs),
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
    // A failed run stops its span load too (a stopped one answers again); what it sent no longer matters.
    await spans?.stop().catch(() => undefined);
    await Promise.all([service.cleanup(), bare?.stop(), gateProbe.stop(), bareProbe?.stop(), client?.stop()]);
  }
}
