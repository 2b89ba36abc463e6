/**
 * The gate during an evaluation tick (issue #23, "gate p99 independent of the SLO count"), faster than the
 * curves bench: one fixture of bench/curvesData.ts (10,000 SLOs over as many series by default; kept in
 * BENCH_TICKLAG_FIXTURE and built there only when missing, each run on a copy of its database), one `sloguard serve` on it with a short interval,
 * and rounds in which the gate and bare fastify (its own process, the gate's own answer) are each paced at
 * BENCH_TICKLAG_RATE/s over TICKS whole intervals. The service's main thread is polled every millisecond
 * (bench/loopHolds.ts). A tick's window runs from its evaluation time (the gate answer's `evaluated_at`, taken
 * when the tick began) to the first gate answer that shows it (the statuses change when the tick is done; the
 * listeners that follow, one a turn, fall outside it: the whole window's ratio holds them either way).
 * Requests are split by their due time, inside a tick's window or outside: p99 of each side of each split, and
 * the ratio to bare fastify's within the round.
 *
 *   npm run bench -- ticklag
 *   BENCH_TICKLAG_FIXTURE=/tmp/ticklag-fixture BENCH_ROUNDS=3 npm run bench -- ticklag
 *   BENCH_TICKLAG_NODE_FLAGS=--max-semi-space-size=32 BENCH_TICKLAG_TRACE_GC=1 npm run bench -- ticklag
 *   BENCH_TICKLAG_CLI=/tmp/before/dist/cli/main.js npm run bench -- ticklag
 *
 * A reused fixture ends where it was built, so its last minutes hold no rows: the reads are the same, the SLIs
 * are not the generator's (this bench times, it does not check them; the curves bench does).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SERVE_NODE_FLAGS } from '../src/cli/nodeFlags.js';
import { CLI, type SloguardProcess } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { waitFor } from '../test/helpers/wait.js';
import { buildDatabase, serviceOf, startFixtureService, writeDefinitions } from './curvesData.js';
import { type BareServer, startBareFastify } from './gateTargets.js';
import { holdsText, LoopHoldProbe } from './loopHolds.js';
import { envInt, formatNumber, formatSpread, loadNow, loadText, rounds, spread } from './method.js';
import { type PacedResult, pacedLoad, quantile } from './paced.js';

const SLOS = envInt('BENCH_TICKLAG_SLOS', 10_000);
const RATE = envInt('BENCH_TICKLAG_RATE', 1_000);
const INTERVAL_S = envInt('BENCH_TICKLAG_INTERVAL_SECONDS', 15);
/** Gate answers that are decisions: allow or warn (200), deny (423). */
const DECISIONS = new Set([200, 423]);
/** Another build's dist/cli/main.js (say the commit before a change, built in a copy of the tree). */
const OTHER_CLI = process.env.BENCH_TICKLAG_CLI || undefined;
/** Ticks each round's window holds. */
const TICKS = envInt('BENCH_TICKLAG_TICKS', 2);
const ROUNDS = rounds(3);
/** The minute data the service keeps (the fixture holds one day, the default). */
const MINUTE_RETENTION_DAYS = 1;

interface Split {
  inside: number[];
  outside: number[];
}

/** Splits answered requests by whether they were due inside one of `ticks`. */
function splitByTicks(answered: PacedResult['answered'], ticks: readonly TickWindow[]): Split {
  const inside: number[] = [];
  const outside: number[] = [];
  for (const { dueMs, latencyMs } of answered) {
    const during = ticks.some((tick) => dueMs >= tick.startMs && dueMs < tick.endMs);
    (during ? inside : outside).push(latencyMs);
  }
  return { inside: inside.sort((a, b) => a - b), outside: outside.sort((a, b) => a - b) };
}

/** A tick's window on process.hrtime's clock (ms): from its evaluation time to the first answer showing it. */
interface TickWindow {
  startMs: number;
  endMs: number;
}

/** process.hrtime (ms) now, the clock of the paced requests' due times. */
const hrtimeMs = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * Watches the gate's answers for each tick's `evaluated_at` (the time the tick evaluated, taken when it began)
 * and when it first appeared (the statuses change at once when the tick is done): the ticks' windows.
 */
function tickWatcher() {
  const firstSeen = new Map<string, number>();
  return {
    read(body: string, endedMs: number): void {
      const at = EVALUATED_AT.exec(body)?.[1];
      if (at !== undefined && !firstSeen.has(at)) firstSeen.set(at, endedMs);
    },
    /** The windows of the ticks that began after `sinceWallMs`. */
    windows(sinceWallMs: number): TickWindow[] {
      const wallToHrtime = hrtimeMs() - Date.now();
      return [...firstSeen]
        .map(([at, seenMs]) => ({ startMs: Date.parse(at) + wallToHrtime, endMs: seenMs }))
        .filter((tick) => tick.startMs >= sinceWallMs + wallToHrtime);
    },
  };
}
const EVALUATED_AT = /"evaluated_at":"([^"]+)"/;

/** Resolves at the wall time `atMs`. */
const until = (atMs: number) => new Promise((done) => setTimeout(done, Math.max(0, atMs - Date.now())));

/**
 * The fixture: BENCH_TICKLAG_FIXTURE's source.db and slo-definitions (built there when missing) or a temp
 * folder's. The service runs on a copy of source.db, so no run sees another's statuses or read-cache churn.
 */
function fixture(): { definitions: string; databasePath: string; cleanup: () => void } {
  const dir = tempDir('sloguard-bench-ticklag-');
  const folder = process.env.BENCH_TICKLAG_FIXTURE || dir.path;
  const source = join(folder, 'source.db');
  if (!existsSync(source)) {
    mkdirSync(folder, { recursive: true });
    const started = performance.now();
    const point = { slos: SLOS, series: SLOS };
    buildDatabase(source, point, Math.floor(Date.now() / 60_000), MINUTE_RETENTION_DAYS);
    writeDefinitions(join(folder, 'slo-definitions'), point);
    process.stdout.write(`  fixture built in ${formatNumber((performance.now() - started) / 1000)} s\n`);
  }
  const databasePath = join(dir.path, 'sloguard.db');
  copyFileSync(source, databasePath);
  return { definitions: join(folder, 'slo-definitions'), databasePath, cleanup: dir.cleanup };
}

const settings = tempDir('sloguard-bench-ticklag-config-');

/** An executable running this checkout's CLI under node with `flags`. */
function wrapper(flags: readonly string[]): string {
  const path = settings.file(
    'sloguard.sh',
    `#!/bin/sh\nexec '${process.execPath}' ${[...SERVE_NODE_FLAGS, ...flags].join(' ')} '${OTHER_CLI ?? CLI}' "$@"\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

interface RoundFigures {
  gateInside: number;
  bareInside: number;
  gateOutside: number;
  bareOutside: number;
  /** The whole window's p99, gate ÷ bare: what follows a tick's window (its listeners) is in it either way. */
  wholeRatio: number;
  tickMs: number[];
  load: number;
}

const { definitions, databasePath, cleanup } = fixture();
/** V8 flags for the service (some, like --trace-gc, are refused in NODE_OPTIONS): given on node's command line. */
const nodeFlags = [
  ...(process.env.BENCH_TICKLAG_NODE_FLAGS ?? '').split(' '),
  process.env.BENCH_TICKLAG_TRACE_GC === '1' ? '--trace-gc' : '',
].filter((flag) => flag !== '');
let service: SloguardProcess | undefined;
let bare: BareServer | undefined;
let probe: LoopHoldProbe | undefined;
try {
  service = await startFixtureService({
    definitions,
    databasePath,
    configDir: settings.path,
    intervalS: INTERVAL_S,
    minuteRetentionDays: MINUTE_RETENTION_DAYS,
    command: nodeFlags.length > 0 || OTHER_CLI ? wrapper(nodeFlags) : undefined,
  });
  const gateUrl = `${service.url}/api/v1/gate?service=${serviceOf({ slos: SLOS, series: SLOS }, 0)}&environment=production`;
  // A decision, allow or deny (423): a kept fixture ages, and once its last rows leave the short burn windows
  // the gate denies on them; a deny costs the gate what an allow does.
  await waitFor('a gate decision', async () => DECISIONS.has((await fetch(gateUrl)).status), {
    timeoutMs: 120_000,
  });
  bare = await startBareFastify(await (await fetch(gateUrl)).json());
  probe = new LoopHoldProbe(service.pid!);
  process.stdout.write(
    `\n${SLOS.toLocaleString('en-US')} SLOs, interval ${INTERVAL_S} s, gate and bare fastify each at ${RATE}/s over ${TICKS} ticks a round${nodeFlags.length > 0 ? `, node ${nodeFlags.join(' ')}` : ''} (${loadText()})\n`,
  );
  const intervalMs = INTERVAL_S * 1000;
  const figures: RoundFigures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // The window starts half an interval before a tick and holds TICKS of them.
    let firstTick = Math.ceil(Date.now() / intervalMs) * intervalMs;
    if (firstTick - intervalMs / 2 < Date.now() + 500) firstTick += intervalMs;
    await until(firstTick - intervalMs / 2);
    const logsBefore = service.logs.length;
    const startedWallMs = Date.now();
    const watcher = tickWatcher();
    const { result, holds } = await probe.take(() =>
      Promise.all([
        pacedLoad(gateUrl, RATE, TICKS * INTERVAL_S, 32, watcher.read),
        pacedLoad(bare!.url, RATE, TICKS * INTERVAL_S),
      ]),
    );
    const [gate, baseline] = result;
    if (gate.errors + baseline.non2xx + baseline.errors > 0)
      throw new Error(`failed requests: gate ${gate.errors}, bare ${baseline.non2xx + baseline.errors}`);
    // Denies (the kept fixture aged) and answers of a gate past its statuses' freshness (a tick longer than two
    // intervals on a loaded machine): counted and said, their latencies kept.
    if (gate.non2xx > 0) process.stdout.write(`  round ${round + 1}: ${gate.non2xx} gate answers not 2xx\n`);
    const ticks = watcher.windows(startedWallMs);
    if (ticks.length === 0) throw new Error('no tick was seen in the window');
    const ours = splitByTicks(gate.answered, ticks);
    const theirs = splitByTicks(baseline.answered, ticks);
    const scavenges = service.logs
      .slice(logsBefore)
      .join('')
      .match(/Scavenge[^,]*, ([\d.]+) \/ [\d.]+ ms/g);
    const pauses = (scavenges ?? []).map((line) => Number(/, ([\d.]+) \//.exec(line)![1]));
    const p99 = (values: number[]) => quantile(values, 0.99);
    const figure: RoundFigures = {
      gateInside: p99(ours.inside),
      bareInside: p99(theirs.inside),
      gateOutside: p99(ours.outside),
      bareOutside: p99(theirs.outside),
      wholeRatio: p99(gate.latenciesMs) / p99(baseline.latenciesMs),
      tickMs: ticks.map((t) => t.endMs - t.startMs),
      load: loadNow(),
    };
    figures.push(figure);
    process.stdout.write(
      `  round ${round + 1}: inside ${ticks.length} tick(s) of ${ticks.map((t) => `${formatNumber(t.endMs - t.startMs)} ms`).join(', ')}: gate p99 ${formatNumber(figure.gateInside)} ms over ${ours.inside.length}, bare ${formatNumber(figure.bareInside)} ms (${(figure.gateInside / figure.bareInside).toFixed(2)}×); outside: gate ${formatNumber(figure.gateOutside)}, bare ${formatNumber(figure.bareOutside)} ms (${(figure.gateOutside / figure.bareOutside).toFixed(2)}×); whole window gate ${formatNumber(p99(gate.latenciesMs))}, bare ${formatNumber(p99(baseline.latenciesMs))} ms (load ${figure.load.toFixed(2)})\n` +
        `    ${holdsText(holds)}\n` +
        (scavenges
          ? `    scavenges in the window: ${pauses.length}, ${formatNumber(pauses.reduce((a, b) => a + b, 0))} ms in all, longest ${formatNumber(Math.max(...pauses, 0))} ms\n`
          : ''),
    );
  }
  const line = (label: string, of: (f: RoundFigures) => number, unit: string) =>
    `  ${label}: ${formatSpread(spread(figures.map(of)), unit)}\n`;
  process.stdout.write(
    `\nmin / median / max over ${ROUNDS} rounds (load ${formatNumber(Math.min(...figures.map((f) => f.load)))}–${formatNumber(Math.max(...figures.map((f) => f.load)))}):\n` +
      line('gate p99 inside ticks', (f) => f.gateInside, 'ms') +
      line('bare fastify p99, same requests due inside ticks', (f) => f.bareInside, 'ms') +
      line('gate ÷ bare inside ticks', (f) => f.gateInside / f.bareInside, '×') +
      line('gate p99 outside ticks', (f) => f.gateOutside, 'ms') +
      line('bare fastify p99 outside ticks', (f) => f.bareOutside, 'ms') +
      line('gate ÷ bare outside ticks', (f) => f.gateOutside / f.bareOutside, '×') +
      line('gate ÷ bare, whole window', (f) => f.wholeRatio, '×') +
      line(
        'longest tick window (evaluated_at to the first answer showing it)',
        (f) => Math.max(...f.tickMs),
        'ms',
      ),
  );
} finally {
  await probe?.stop();
  await bare?.stop();
  await service?.cleanup();
  settings.cleanup();
  cleanup();
}
