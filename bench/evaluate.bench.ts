/**
 * Evaluating 1,000 SLOs over 28 days of minute data for 1,000 series (target ≤ 1 s), and the same SLIs of the
 * same 1,000 series asked of a real Prometheus (Debian's `prometheus`: the same per-minute counts backfilled
 * with one `promtool tsdb create-blocks-from openmetrics` call into blocks as large as Prometheus's own
 * compactor makes (486 h), summed with `sum_over_time(...[28d])`) in its steady state: the bench waits until
 * a whole compaction cycle has passed with nothing left to do. In each round sloguard opens the store afresh
 * (first evaluation, empty caches), evaluates again (warm), and Prometheus answers the same query; the
 * speed-ups are taken within the round (target ≥ 10×, results equal to 1e-9). sloguard's database holds the
 * latency histograms and threshold counts a real nginx import writes (bench/latencyHistory.ts, through the
 * store's batch writer). Also that database's size and the service's RSS with all 1,000 SLOs evaluated.
 *
 *   BENCH_ROUNDS=3 npm run bench -- evaluate
 *   npx tsx bench/evaluate.bench.ts [--series 1000] [--prometheus-series 1000] [--minute-retention-days 3]
 *
 * Minute rows are kept as the service keeps them by default (SLOGUARD_MINUTE_RETENTION_DAYS).
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MINUTE_RETENTION_DAYS } from '../src/config/config.js';
import { SloRegistry } from '../src/definitions/registry.js';
import type { SloDefinition } from '../src/model/slo.js';
import { SloEvaluator } from '../src/schedule/scheduler.js';
import { StoreCounts } from '../src/sources/store/counts.js';
import { BucketStore } from '../src/store/buckets.js';
import { openDatabase } from '../src/store/database.js';
import { StatusStore } from '../src/store/statuses.js';
import { freePort } from '../test/helpers/ports.js';
import { SloguardProcess } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { waitFor } from '../test/helpers/wait.js';
import { errors, expectedSli as generatedSli, total, writeHistory } from './latencyHistory.js';
import { AS_IN_PRODUCTION, Comparison, figure, loadText, processMemoryBytes, rounds } from './method.js';

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '1000' },
    /** The same series on both sides by default; 0 skips Prometheus. */
    'prometheus-series': { type: 'string' },
    'minute-retention-days': { type: 'string', default: String(DEFAULT_MINUTE_RETENTION_DAYS) },
  },
});
const SERIES = Number(values.series);
const PROM_SERIES = Number(values['prometheus-series'] ?? SERIES);
const ROUNDS = rounds(5);
const MINUTE_RETENTION_DAYS = Number(values['minute-retention-days']);
const DAYS = 28;
const MINUTES = DAYS * 24 * 60;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const OBJECTIVE = 0.999;

const dir = tempDir('sloguard-bench-eval-');
const dbPath = join(dir.path, 'sloguard.db');
// The 28 days end at the last whole hour; evaluation runs at its end, so every window is whole minutes.
const END_MS = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
const FIRST_MINUTE = END_MS / MINUTE_MS - MINUTES;

/** sloguard's side: the 28 days with latency, committed through the store's batch writer. */
function backfill(): void {
  const db = openDatabase(dbPath);
  try {
    writeHistory(db, {
      series: SERIES,
      days: DAYS,
      endMs: END_MS,
      minuteRetentionDays: MINUTE_RETENTION_DAYS,
    });
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

function definitions(count: number): SloDefinition[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `slo-${i}`,
    service: `svc-${i % 100}`,
    labels: {},
    indicator: {
      source: 'loadbalancer' as const,
      select: { route: `/r/${i}`, method: 'GET' },
      good: { kind: 'availability' as const },
    },
    objective: OBJECTIVE,
    objectivePercent: OBJECTIVE * 100,
    windowMs: DAYS * 86_400_000,
    window: '28d',
    windowSpec: { kind: 'rolling' as const, ms: DAYS * 86_400_000 },
    budgeting: 'occurrences' as const,
    format: 'native' as const,
    location: { file: 'bench', line: 1, column: 1 },
  }));
}

/**
 * One round of sloguard: opens the store afresh and times the first evaluation of `count` SLOs at END_MS
 * (empty caches, as after a restart), then a warm one at the same time and one 37 minutes past the hour
 * (every window with ragged minute edges at both ends: the usual case for a live service).
 */
function sloguardRound(count: number) {
  const db = openDatabase(dbPath);
  try {
    const registry = new SloRegistry(definitions(count));
    const evaluator = new SloEvaluator(
      new StoreCounts(new BucketStore(db, MINUTE_RETENTION_DAYS)),
      new StatusStore(db),
      { registry },
      60_000,
    );
    const timed = (atMs: number) => {
      const started = performance.now();
      const statuses = evaluator.evaluateAll(atMs);
      return { ms: performance.now() - started, statuses };
    };
    const first = timed(END_MS);
    const warm = timed(END_MS);
    const ragged = timed(END_MS + 37 * MINUTE_MS);
    return {
      firstMs: first.ms,
      warmMs: warm.ms,
      raggedMs: ragged.ms,
      sli: new Map(first.statuses.map((s) => [s.name, s.sli])),
    };
  } finally {
    db.close();
  }
}

const expectedSli = (i: number) => generatedSli(i, MINUTES);

interface Prometheus {
  /** Both sums over the 28 days, timed from request to the last answer, and the SLIs they give. */
  ask(): Promise<{ ms: number; sli: Map<number, number> }>;
  stop(): Promise<void>;
  /** Bytes of its compacted blocks: the request and error counts, no latency. */
  blockBytes: number;
}

/** Bytes of the files under a folder. */
function folderBytes(path: string): number {
  let bytes = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  return bytes;
}

/** A counter of Prometheus's own /metrics (its TSDB's compaction counters), 0 when absent. */
async function prometheusCounter(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** The blocks of a TSDB folder (each block is a folder holding meta.json). */
const blocks = (data: string) =>
  readdirSync(data, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(data, entry.name, 'meta.json')))
    .map((entry) => join(data, entry.name));
const blockCount = (data: string) => blocks(data).length;

/**
 * Prometheus over the first `count` series, backfilled and then left to compact until it is in its steady
 * state, or why it could not be started.
 */
async function startPrometheus(count: number): Promise<Prometheus | string> {
  if (!existsSync('/usr/bin/prometheus') || !existsSync('/usr/bin/promtool'))
    return 'prometheus is not installed (flock /tmp/apt.lock apt-get install -y prometheus)';
  const input = join(dir.path, 'openmetrics');
  const data = join(dir.path, 'prometheus');
  mkdirSync(input);
  mkdirSync(data);
  // One file and one promtool call. promtool reads its input once per block it writes, so the blocks are as
  // large as Prometheus's compactor makes them (its ranges are 2 h · 3^n up to 31 days: 486 h); 2-hour blocks
  // took one call each, 181 s for 20 series, and 672 blocks for the compactor to merge.
  const started = performance.now();
  const file = join(input, 'minutes.om');
  const fd = openSync(file, 'w');
  try {
    for (const [name, value] of [
      ['sloguard_minute_requests', total],
      ['sloguard_minute_errors', errors],
    ] as const) {
      writeSync(fd, `# TYPE ${name} gauge\n`);
      for (let i = 0; i < count; i++) {
        const lines: string[] = [];
        for (let m = 0; m < MINUTES; m++)
          lines.push(`${name}{series="${i}"} ${value(i, m)} ${(FIRST_MINUTE + m) * 60}\n`);
        writeSync(fd, lines.join(''));
      }
    }
    writeSync(fd, '# EOF\n');
  } finally {
    closeSync(fd);
  }
  const written = performance.now();
  execFileSync(
    'promtool',
    ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=744h', '--quiet', file, data],
    { stdio: 'ignore' },
  );
  process.stdout.write(
    `prometheus backfill of ${count} series: ${((written - started) / 1000).toFixed(0)} s writing ${(statSync(file).size / 1e9).toFixed(1)} GB of OpenMetrics, ${((performance.now() - written) / 1000).toFixed(0)} s in promtool, ${blockCount(data)} blocks (${loadText()})\n`,
  );
  rmSync(file);
  const port = await freePort();
  const config = join(dir.path, 'prometheus.yml');
  writeFileSync(config, 'global: { scrape_interval: 1h }\nscrape_configs: []\n');
  const server = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=10y',
    ],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGTERM');
    await once(server, 'exit');
  };
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      'prometheus ready',
      async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.ok,
      {
        timeoutMs: 60_000,
      },
    );
    // Query at the last sample's time once the backfilled blocks are compacted and loaded.
    const at = (END_MS - MINUTE_MS) / 1000;
    const query = async (expr: string) => {
      const url = `${base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${at}`;
      const body = (await (await fetch(url)).json()) as {
        data: { result: Array<{ metric: { series: string }; value: [number, string] }> };
      };
      return new Map(body.data.result.map((r) => [Number(r.metric.series), Number(r.value[1])]));
    };
    await waitFor(
      'backfilled blocks loaded',
      async () => (await query('count_over_time(sloguard_minute_requests[28d])')).get(0) === MINUTES,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    // Steady state: the compactor runs once a minute and merges blocks level by level. It is done when a whole
    // run (between two increments of `triggered`) compacted nothing.
    const backfilled = blockCount(data);
    const compacting = performance.now();
    const counters = async () => ({
      triggered: await prometheusCounter(base, 'prometheus_tsdb_compactions_triggered_total'),
      compactions: await prometheusCounter(base, 'prometheus_tsdb_compactions_total'),
    });
    let seen = await counters();
    let idleRuns = 0;
    await waitFor(
      'prometheus compaction settled',
      async () => {
        const now = await counters();
        if (now.triggered > seen.triggered) {
          idleRuns = now.compactions === seen.compactions ? idleRuns + 1 : 0;
          seen = now;
        }
        return idleRuns >= 1;
      },
      { timeoutMs: 30 * 60_000, intervalMs: 1_000 },
    );
    process.stdout.write(
      `prometheus compacted ${backfilled} backfilled blocks into ${blockCount(data)} and settled in ${((performance.now() - compacting) / 1000).toFixed(0)} s (${seen.compactions} compactions; ${loadText()})\n`,
    );
    const blockBytes = blocks(data).reduce((sum, block) => sum + folderBytes(block), 0);
    return {
      blockBytes,
      async ask() {
        const t0 = performance.now();
        const [requests, failures] = await Promise.all([
          query('sum_over_time(sloguard_minute_requests[28d])'),
          query('sum_over_time(sloguard_minute_errors[28d])'),
        ]);
        const ms = performance.now() - t0;
        return { ms, sli: new Map([...requests].map(([i, t]) => [i, (t - failures.get(i)!) / t])) };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** RSS of a real `sloguard serve` with the 1,000 SLOs, once it has evaluated them over the database. */
async function serviceRss(): Promise<number> {
  const folder = join(dir.path, 'slo-definitions');
  mkdirSync(folder);
  const yaml = definitions(SERIES).map(
    (d) => `apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${d.name}, service: ${d.service} }
spec:
  indicator: { source: loadbalancer, select: { route: "${d.indicator.select.route}", method: GET } }
  objective: ${d.objectivePercent}
  window: 28d
`,
  );
  writeFileSync(join(folder, 'slos.yaml'), yaml.join('---\n'));
  const service = await SloguardProcess.start({
    definitions: folder,
    databasePath: dbPath,
    env: {
      ...AS_IN_PRODUCTION,
      SLOGUARD_EVALUATION_INTERVAL: '5s',
      SLOGUARD_MINUTE_RETENTION_DAYS: String(MINUTE_RETENTION_DAYS),
    },
  });
  try {
    await waitFor(
      'all SLOs evaluated',
      async () => {
        const body = (await (await fetch(`${service.url}/api/v1/slos`)).json()) as { slos: unknown[] };
        return body.slos.length === SERIES;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    return processMemoryBytes(service.pid!, 'VmRSS');
  } finally {
    await service.stop();
  }
}

let prometheus: Prometheus | string | undefined;
try {
  const started = performance.now();
  backfill();
  process.stdout.write(
    `backfill of ${SERIES} series × ${MINUTES} minutes took ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  const dbBytes = statSync(dbPath).size;
  prometheus = PROM_SERIES > 0 ? await startPrometheus(PROM_SERIES) : 'skipped (--prometheus-series 0)';
  if (typeof prometheus === 'string') process.stdout.write(`Prometheus side not measured: ${prometheus}\n`);
  const first = new Comparison(
    `${PROM_SERIES} SLOs over 28 days, sloguard's first evaluation after opening the store`,
    'ms',
    `Prometheus sum_over_time over ${PROM_SERIES} series`,
    'baseline/ours',
  );
  const warm = new Comparison(
    `${PROM_SERIES} SLOs over 28 days, sloguard warm`,
    'ms',
    `Prometheus sum_over_time over ${PROM_SERIES} series`,
    'baseline/ours',
  );
  const all = { first: [] as number[], warm: [] as number[], ragged: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const ours = sloguardRound(SERIES);
    all.first.push(ours.firstMs);
    all.warm.push(ours.warmMs);
    all.ragged.push(ours.raggedMs);
    for (let i = 0; i < SERIES; i++) {
      const difference = Math.abs(ours.sli.get(`slo-${i}`)! - expectedSli(i));
      if (!(difference <= 1e-9)) throw new Error(`slo-${i}: SLI off by ${difference}`);
    }
    if (typeof prometheus !== 'object') continue;
    // The same series on both sides: with --prometheus-series below --series, sloguard evaluates that many too.
    const same = PROM_SERIES === SERIES ? ours : sloguardRound(PROM_SERIES);
    const theirs = await prometheus.ask();
    let worst = 0;
    for (let i = 0; i < PROM_SERIES; i++)
      worst = Math.max(worst, Math.abs(same.sli.get(`slo-${i}`)! - theirs.sli.get(i)!));
    if (!(worst <= 1e-9)) throw new Error(`sloguard and Prometheus disagree by up to ${worst}`);
    first.add(same.firstMs, theirs.ms);
    warm.add(same.warmMs, theirs.ms);
  }
  figure(`sloguard: ${SERIES} SLOs over 28 days, first evaluation after opening the store`, all.first, 'ms');
  figure(`sloguard: ${SERIES} SLOs over 28 days, warm evaluation`, all.warm, 'ms');
  figure(`sloguard: ${SERIES} SLOs over 28 days, warm, 37 minutes past the hour`, all.ragged, 'ms');
  process.stdout.write(
    `sloguard SLIs equal the generator's exact SLIs to 1e-9 for all ${SERIES}, every round\n`,
  );
  if (typeof prometheus === 'object') {
    await prometheus.stop();
    process.stdout.write(
      `sloguard and Prometheus SLIs agree to 1e-9 over ${PROM_SERIES} series, every round\n`,
    );
    first.print();
    warm.print();
  }
  figure('database holding 28 days, with latency histograms', [dbBytes / 1e6], 'MB');
  if (typeof prometheus === 'object')
    figure(
      `Prometheus blocks holding the same ${PROM_SERIES} series' counts (no latency)`,
      [prometheus.blockBytes / 1e6],
      'MB',
    );
  figure(
    `service RSS with the ${SERIES.toLocaleString('en-US')} SLOs evaluated`,
    [(await serviceRss()) / 1e6],
    'MB',
  );
} finally {
  if (typeof prometheus === 'object') await prometheus.stop();
  dir.cleanup();
}
