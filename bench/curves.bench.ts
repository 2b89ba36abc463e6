/**
 * Cost curves (issue #23, "Curves, not points"): sloguard's costs at 100, 1,000 and 10,000 SLOs over as many
 * series (28 days of minute data), and at 1,000, 10,000 and 100,000 route series under a fixed 1,000 SLOs (the
 * series beyond the SLOs' own carry a long tail's traffic: bench/curvesData.ts). At each point:
 *
 * - evaluation of every SLO, in process (bench/evaluate.bench.ts's way: the store opened afresh, its first
 *   evaluation, then a warm one; min / median / max over the rounds), and the first tick of a real
 *   `sloguard serve` after its start (its own sloguard_evaluation_duration_seconds);
 * - the service's peak RSS (VmHWM) and resident RSS once it has served everything below; the database size;
 * - the gate's p99 at a constant arrival rate (bench/paced.ts, latency from each request's due time) over one
 *   whole evaluation interval at the service's default interval, so the window holds exactly one tick (checked);
 * - the overview API's answer time, `GET /api/v1/slos?limit=100&sort=budget` (median of 9, over HTTP).
 *
 * The baseline of each figure is the previous point of the same run: every step prints its cost ratio against
 * the size ratio and the exponent relating them (1 linear; targets: no worse than linear, gate flat). The
 * figures are written to docs/benchmarks/curves.json and drawn with chart.js in chromium into
 * docs/benchmarks/curves-*.png (bench/curvesChart.ts).
 *
 *   npm run bench -- curves
 *   BENCH_CURVES_SLOS=100,1000 BENCH_CURVES_SERIES=1000,10000 BENCH_CURVES_GATE_SECONDS=10 BENCH_ROUNDS=2 npm run bench -- curves
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MINUTE_RETENTION_DAYS } from '../src/config/config.js';
import { loadDefinitions } from '../src/definitions/load.js';
import { SloRegistry } from '../src/definitions/registry.js';
import type { SloDefinition } from '../src/model/slo.js';
import { SloEvaluator } from '../src/schedule/scheduler.js';
import { StoreCounts } from '../src/sources/store/counts.js';
import { BucketStore } from '../src/store/buckets.js';
import { openDatabase } from '../src/store/database.js';
import { StatusStore } from '../src/store/statuses.js';
import { tempDir } from '../test/helpers/tmp.js';
import { waitFor } from '../test/helpers/wait.js';
import { drawCurves } from './curvesChart.js';
import {
  buildDatabase,
  type CurvePoint,
  expectedSli,
  serviceOf,
  startFixtureService,
  writeDefinitions,
} from './curvesData.js';
import { growthSteps } from './curvesMath.js';
import { type BareServer, startBareFastify } from './gateTargets.js';
import {
  envInt,
  formatNumber,
  loadNow,
  loadText,
  median,
  processMemoryBytes,
  rounds,
  spread,
} from './method.js';
import { pacedLoad, quantile } from './paced.js';

/** A comma-separated list of whole numbers from the environment. */
function envList(name: string, fallback: readonly number[]): number[] {
  const text = process.env[name];
  if (text === undefined || text === '') return [...fallback];
  const values = text.split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`${name}=${text}: expected whole numbers ≥ 1, comma-separated`);
  return values;
}

const SLO_SIZES = envList('BENCH_CURVES_SLOS', [100, 1_000, 10_000]);
const SERIES_SIZES = envList('BENCH_CURVES_SERIES', [1_000, 10_000, 100_000]);
const FIXED_SLOS = envInt('BENCH_CURVES_FIXED_SLOS', 1_000);
const ROUNDS = rounds(3);
const GATE_RATE = envInt('BENCH_CURVES_GATE_RATE', 200);
/** The service's evaluation interval (its default, 1 minute); the gate is paced over one whole interval. */
const INTERVAL_S = envInt('BENCH_CURVES_INTERVAL_SECONDS', 60);
const GATE_SECONDS = envInt('BENCH_CURVES_GATE_SECONDS', INTERVAL_S);
/** Room before the gate window for the baseline to start (it answers the gate's own answer, asked first). */
const BARE_START_MS = 5_000;
const OVERVIEW_CALLS = 9;
const MINUTE_RETENTION_DAYS = DEFAULT_MINUTE_RETENTION_DAYS;
/** Where curves.json and the charts go: a short run may write elsewhere than the figures docs/benchmarks.md shows. */
const OUT = process.env.BENCH_CURVES_OUT || join(import.meta.dirname, '../docs/benchmarks');

if (SERIES_SIZES.some((s) => s < FIXED_SLOS))
  throw new Error(
    `BENCH_CURVES_SERIES must be ≥ BENCH_CURVES_FIXED_SLOS (${FIXED_SLOS}): each SLO has a series`,
  );

export interface PointResult extends CurvePoint {
  buildS: number;
  dbMb: number;
  evalFirstMs: number[];
  evalWarmMs: number[];
  serviceFirstMs: number;
  serviceTickMs: number[];
  readyMs: number;
  peakRssMb: number;
  rssMb: number;
  gateP99Ms: number;
  /** The bare fastify route's p99, paced in the same window. */
  bareP99Ms: number;
  gateMaxMs: number;
  gateSendLagMs: number;
  overviewMs: number;
  load: number[];
}

/** sloguard_evaluation_duration_seconds' count and sum from the service's /metrics. */
async function evaluationMetric(url: string): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^sloguard_evaluation_duration_seconds_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: value('count'), sum: value('sum') };
}

/** In process: the store opened afresh and every SLO evaluated at `atMs` (first), then again (warm). */
function evaluateInProcess(
  dbPath: string,
  definitions: readonly SloDefinition[],
  atMs: number,
  point: CurvePoint,
) {
  const db = openDatabase(dbPath);
  try {
    const evaluator = new SloEvaluator(
      new StoreCounts(new BucketStore(db, MINUTE_RETENTION_DAYS)),
      new StatusStore(db),
      { registry: new SloRegistry(definitions) },
      INTERVAL_S * 1000,
    );
    const timed = () => {
      const started = performance.now();
      const statuses = evaluator.evaluateAll(atMs);
      return { ms: performance.now() - started, statuses };
    };
    const first = timed();
    const warm = timed();
    // Every SLO's SLI is the generator's exact one (a sample of 100, spread over the SLOs).
    const bySli = new Map(first.statuses.map((s) => [s.name, s.sli]));
    const step = Math.max(1, Math.floor(point.slos / 100));
    for (let i = 0; i < point.slos; i += step) {
      const difference = Math.abs(bySli.get(`slo-${i}`)! - expectedSli(i));
      if (!(difference <= 1e-9)) throw new Error(`slo-${i}: SLI off by ${difference}`);
    }
    return { firstMs: first.ms, warmMs: warm.ms };
  } finally {
    db.close();
  }
}

/** Resolves at the wall time `atMs`. */
const until = (atMs: number) => new Promise((done) => setTimeout(done, Math.max(0, atMs - Date.now())));

async function measureService(dir: string, dbPath: string, definitionsPath: string, point: CurvePoint) {
  const started = performance.now();
  const service = await startFixtureService({
    definitions: definitionsPath,
    databasePath: dbPath,
    configDir: dir,
    intervalS: INTERVAL_S,
    minuteRetentionDays: MINUTE_RETENTION_DAYS,
  });
  let bareServer: BareServer | undefined;
  try {
    const readyMs = performance.now() - started;
    const evaluatorStartedMs = Date.now();
    // The first evaluation: at readiness, or soon after where the service answers from stored statuses first.
    let first = { count: 0, sum: 0 };
    await waitFor(
      'the first evaluation',
      async () => {
        first = await evaluationMetric(service.url);
        return first.count >= 1;
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    if (first.count !== 1) throw new Error(`expected the first evaluation alone, saw ${first.count}`);
    // The overview API: one page of 100 sorted by remaining budget.
    const overview: number[] = [];
    for (let call = 0; call < OVERVIEW_CALLS; call++) {
      const t0 = performance.now();
      const answer = await fetch(`${service.url}/api/v1/slos?limit=100&sort=budget`);
      const body = (await answer.json()) as { slos: unknown[]; total: number };
      overview.push(performance.now() - t0);
      if (!answer.ok || body.slos.length !== Math.min(100, point.slos) || body.total !== point.slos)
        throw new Error(`overview answered ${answer.status} with ${body.slos.length} of ${body.total}`);
    }
    // Ticks land on multiples of the interval at least half an interval after the evaluator started: the gate
    // window starts a third of an interval before such a tick, so it holds that tick and no other.
    const intervalMs = INTERVAL_S * 1000;
    let tickAt = Math.ceil((evaluatorStartedMs + intervalMs / 2) / intervalMs) * intervalMs;
    while (tickAt - intervalMs / 3 < Date.now() + BARE_START_MS) tickAt += intervalMs;
    const gateUrl = `${service.url}/api/v1/gate?service=${serviceOf(point, 0)}&environment=production`;
    // The baseline, paced in the same window: bare fastify in its own process answering the gate's own bytes
    // (bench/gateTargets.ts, as the gate bench), so a stall of this shared machine shows on both sides and a
    // stall of sloguard's own on one.
    bareServer = await startBareFastify(await (await fetch(gateUrl)).json());
    await until(tickAt - intervalMs / 3);
    const before = await evaluationMetric(service.url);
    const [gate, bare] = await Promise.all([
      pacedLoad(gateUrl, GATE_RATE, GATE_SECONDS),
      pacedLoad(bareServer.url, GATE_RATE, GATE_SECONDS),
    ]);
    if (gate.non2xx > 0 || gate.errors > 0) {
      const answer = (await (await fetch(gateUrl)).text()).slice(0, 500);
      throw new Error(`gate: ${gate.non2xx} non-2xx answers, ${gate.errors} errors: ${answer}`);
    }
    if (bare.non2xx > 0 || bare.errors > 0)
      throw new Error(`bare route: ${bare.non2xx + bare.errors} failed`);
    const after = await evaluationMetric(service.url);
    const ticks = after.count - before.count;
    if (GATE_SECONDS >= INTERVAL_S && ticks < 1)
      throw new Error('no evaluation tick fell within the gate window');
    return {
      readyMs,
      serviceFirstMs: first.sum * 1000,
      serviceTickMs: ticks > 0 ? [((after.sum - before.sum) * 1000) / ticks] : [],
      overviewMs: median(overview),
      gateP99Ms: quantile(gate.latenciesMs, 0.99),
      bareP99Ms: quantile(bare.latenciesMs, 0.99),
      gateMaxMs: gate.latenciesMs.at(-1)!,
      gateSendLagMs: gate.sendLagMs,
      peakRssMb: processMemoryBytes(service.pid!, 'VmHWM') / 1e6,
      rssMb: processMemoryBytes(service.pid!, 'VmRSS') / 1e6,
    };
  } finally {
    await service.cleanup();
    await bareServer?.stop();
  }
}

async function measurePoint(point: CurvePoint): Promise<PointResult> {
  const dir = tempDir('sloguard-bench-curves-');
  try {
    const dbPath = join(dir.path, 'sloguard.db');
    const definitionsPath = join(dir.path, 'slo-definitions');
    const endMinute = Math.floor(Date.now() / 60_000);
    const built = performance.now();
    buildDatabase(dbPath, point, endMinute, MINUTE_RETENTION_DAYS);
    const buildS = (performance.now() - built) / 1000;
    writeDefinitions(definitionsPath, point);
    const dbMb = statSync(dbPath).size / 1e6;
    process.stdout.write(
      `  built ${point.series.toLocaleString('en-US')} series × 28 days in ${buildS.toFixed(1)} s: ${formatNumber(dbMb)} MB\n`,
    );
    const load: number[] = [];
    const evalFirstMs: number[] = [];
    const evalWarmMs: number[] = [];
    const loaded = loadDefinitions([definitionsPath]);
    if (loaded.errors.length > 0) throw new Error(`definitions: ${loaded.errors[0]!.message}`);
    for (let round = 0; round < ROUNDS; round++) {
      const ran = evaluateInProcess(dbPath, loaded.definitions, endMinute * 60_000, point);
      evalFirstMs.push(ran.firstMs);
      evalWarmMs.push(ran.warmMs);
      load.push(loadNow());
      process.stdout.write(
        `  round ${round + 1}: first evaluation ${formatNumber(ran.firstMs)} ms, warm ${formatNumber(ran.warmMs)} ms (load ${loadNow().toFixed(2)})\n`,
      );
    }
    const served = await measureService(dir.path, dbPath, definitionsPath, point);
    load.push(loadNow());
    return { ...point, buildS, dbMb, evalFirstMs, evalWarmMs, load, ...served };
  } finally {
    dir.cleanup();
  }
}

const key = (p: CurvePoint) => `${p.slos}/${p.series}`;
const curves = {
  slos: SLO_SIZES.map((n) => ({ slos: n, series: n })),
  series: SERIES_SIZES.map((s) => ({ slos: FIXED_SLOS, series: s })),
};
const points = new Map<string, CurvePoint>();
for (const point of [...curves.slos, ...curves.series]) points.set(key(point), point);

const results = new Map<string, PointResult>();
for (const point of points.values()) {
  process.stdout.write(
    `\n${point.slos.toLocaleString('en-US')} SLOs, ${point.series.toLocaleString('en-US')} series (${loadText()})\n`,
  );
  const result = await measurePoint(point);
  results.set(key(point), result);
  process.stdout.write(
    `  service: ready in ${formatNumber(result.readyMs)} ms, first tick ${formatNumber(result.serviceFirstMs)} ms; gate p99 ${formatNumber(result.gateP99Ms)} ms against bare fastify's ${formatNumber(result.bareP99Ms)} ms (gate max ${formatNumber(result.gateMaxMs)}, client send lag ${formatNumber(result.gateSendLagMs)}) at ${GATE_RATE}/s over ${GATE_SECONDS} s, its tick ${result.serviceTickMs.map(formatNumber).join(', ') || '-'} ms; overview ${formatNumber(result.overviewMs)} ms; RSS ${formatNumber(result.rssMb)} MB (peak ${formatNumber(result.peakRssMb)})\n`,
  );
}

interface Metric {
  name: string;
  unit: string;
  of: (r: PointResult) => number;
  /** The #23 target at 10,000 SLOs / series, drawn on the chart. */
  target?: number;
}

/** The figures of a table row and a chart panel. */
const METRICS: readonly Metric[] = [
  {
    name: 'evaluation, warm (in process, median)',
    unit: 'ms',
    of: (r) => median(r.evalWarmMs),
    target: 1000,
  },
  {
    name: 'evaluation, first (in process, median)',
    unit: 'ms',
    of: (r) => median(r.evalFirstMs),
    target: 3000,
  },
  { name: 'first tick after start (service)', unit: 'ms', of: (r) => r.serviceFirstMs, target: 3000 },
  { name: 'peak RSS (service)', unit: 'MB', of: (r) => r.peakRssMb, target: 400 },
  { name: 'database', unit: 'MB', of: (r) => r.dbMb, target: 1000 },
  { name: 'gate p99 (paced)', unit: 'ms', of: (r) => r.gateP99Ms },
  { name: 'bare fastify p99, same window', unit: 'ms', of: (r) => r.bareP99Ms },
  { name: 'gate p99 ÷ bare p99, same window', unit: '×', of: (r) => r.gateP99Ms / r.bareP99Ms },
  { name: 'overview API, page of 100 by budget', unit: 'ms', of: (r) => r.overviewMs },
];

function printCurve(title: string, along: 'slos' | 'series', curve: readonly CurvePoint[]): void {
  const rows = curve.map((p) => results.get(key(p))!);
  process.stdout.write(`\n${title}\n`);
  const header = [
    '',
    ...rows.map((r) => `${r[along].toLocaleString('en-US')} ${along}`),
    'exponent per step',
  ];
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const metric of METRICS) {
    const steps = growthSteps(
      rows.map((r) => ({ size: r[along], cost: metric.of(r) })),
      0.15,
      0.01,
    );
    const cells = rows.map((r) => `${formatNumber(metric.of(r))} ${metric.unit}`);
    const growth = steps.map(
      (s) =>
        `×${s.costRatio.toFixed(2)} for ×${formatNumber(s.sizeRatio)}: ${s.exponent.toFixed(2)}${s.linearOrBetter ? '' : ' (worse than linear)'}`,
    );
    process.stdout.write(`| ${metric.name} | ${cells.join(' | ')} | ${growth.join('; ') || '-'} |\n`);
  }
  for (const r of rows) {
    const first = spread(r.evalFirstMs);
    const warm = spread(r.evalWarmMs);
    process.stdout.write(
      `  ${r.slos} SLOs / ${r.series} series: in-process first ${formatNumber(first.min)} / ${formatNumber(first.median)} / ${formatNumber(first.max)} ms, warm ${formatNumber(warm.min)} / ${formatNumber(warm.median)} / ${formatNumber(warm.max)} ms (min / median / max of ${r.evalWarmMs.length}); load ${formatNumber(Math.min(...r.load))}–${formatNumber(Math.max(...r.load))}\n`,
    );
  }
}

printCurve(`SLOs over as many series, 28 days (${loadText()})`, 'slos', curves.slos);
printCurve(
  `Route series under ${FIXED_SLOS.toLocaleString('en-US')} SLOs, 28 days (${loadText()})`,
  'series',
  curves.series,
);

const figures = {
  measuredAt: new Date().toISOString(),
  gate: { rate: GATE_RATE, seconds: GATE_SECONDS, intervalSeconds: INTERVAL_S },
  rounds: ROUNDS,
  metrics: METRICS.map(({ name, unit, target }) => ({ name, unit, target })),
  curves: Object.fromEntries(
    Object.entries(curves).map(([along, curve]) => [
      along,
      curve.map((p) => {
        const r = results.get(key(p))!;
        return { ...p, values: METRICS.map((m) => m.of(r)), load: r.load };
      }),
    ]),
  ),
};
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'curves.json'), `${JSON.stringify(figures, null, 2)}\n`);
const charts = await drawCurves(join(OUT, 'curves.json'), OUT);
process.stdout.write(`\ncharts: ${charts.join(', ')}\n`);
