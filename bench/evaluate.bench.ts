/**
 * Evaluating 1,000 SLOs over 28 days of minute data for 1,000 series (target ≤ 1 s), and the same SLIs of the
 * same 1,000 series asked of a real Prometheus (Debian's `prometheus`: the same per-minute counts backfilled
 * with `promtool tsdb create-blocks-from openmetrics` into blocks as large as Prometheus's own compactor makes
 * (486 h), summed with `sum_over_time(...[28d])`) in its steady state: the bench waits until a whole
 * compaction cycle has passed with nothing left to do. sloguard's database holds the latency histograms and
 * threshold counts a real nginx import writes (bench/latencyHistory.ts, through the store's batch writer).
 *
 * Both sides' data is made once; each round starts from it cold on both sides: a fresh copy of the database,
 * the kernel's page cache dropped when the bench may (root), Prometheus started afresh. Then sloguard opens
 * the copy and evaluates (first evaluation, empty caches) and again (warm), and Prometheus answers the same
 * query twice (first after its start, warm). The speed-ups are taken within the round, first against first
 * and warm against warm, and sloguard's first against Prometheus's warm (target ≥ 10×, SLIs equal to 1e-9).
 * Also that database's size and the service's RSS with all 1,000 SLOs evaluated.
 *
 *   BENCH_ROUNDS=3 npm run bench -- evaluate
 *   npx tsx bench/evaluate.bench.ts [--series 1000] [--prometheus-series 1000] [--minute-retention-days 3]
 *
 * Minute rows are kept as the service keeps them by default (SLOGUARD_MINUTE_RETENTION_DAYS).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
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
/** The database as written: each round evaluates a fresh copy of it (the evaluation stores statuses). */
const dbPath = join(dir.path, 'sloguard.db');
const roundDbPath = join(dir.path, 'round.db');
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

/** A fresh copy of the database for one round, with no WAL beside it (the original was checkpointed). */
function copyDatabase(): string {
  for (const suffix of ['-wal', '-shm']) rmSync(roundDbPath + suffix, { force: true });
  copyFileSync(dbPath, roundDbPath);
  return roundDbPath;
}

/**
 * Writes what is dirty and empties the kernel's page cache, so both sides' first reads come from the disk as
 * after a reboot; needs root. Returns why it could not, or undefined.
 */
function dropPageCache(): string | undefined {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return undefined;
  } catch (error) {
    return (error as Error).message;
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
function sloguardRound(count: number, path: string) {
  const db = openDatabase(path);
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
      const startedCpu = process.cpuUsage();
      const statuses = evaluator.evaluateAll(atMs);
      const { user, system } = process.cpuUsage(startedCpu);
      return { ms: performance.now() - started, cpuMs: (user + system) / 1000, statuses };
    };
    const first = timed(END_MS);
    const warm = timed(END_MS);
    const ragged = timed(END_MS + 37 * MINUTE_MS);
    return {
      firstMs: first.ms,
      /** The process's CPU time (all threads) in the first evaluation: what the load moves least. */
      firstCpuMs: first.cpuMs,
      warmMs: warm.ms,
      raggedMs: ragged.ms,
      sli: new Map(first.statuses.map((s) => [s.name, s.sli])),
    };
  } finally {
    db.close();
  }
}

const expectedSli = (i: number) => generatedSli(i, MINUTES);

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

const promData = join(dir.path, 'prometheus');
/**
 * The largest of Prometheus's compaction ranges (2 h · 3^n, at most 31 days): the blocks promtool writes with
 * --max-block-duration=744h, aligned to multiples of it as the compactor aligns them.
 */
const BLOCK_MS = 486 * HOUR_MS;

/**
 * The per-minute counts of the first `count` series as OpenMetrics, one file per block range. promtool parses
 * its whole input once per block it writes: files cut at the blocks' bounds are parsed once each, and in
 * parallel, and make the same blocks as one file would.
 */
function writeOpenMetrics(count: number): string[] {
  const files: string[] = [];
  for (let from = 0; from < MINUTES; ) {
    const rangeEnd = (Math.floor(((FIRST_MINUTE + from) * MINUTE_MS) / BLOCK_MS) + 1) * BLOCK_MS;
    const to = Math.min(MINUTES, rangeEnd / MINUTE_MS - FIRST_MINUTE);
    const file = join(dir.path, `minutes-${files.length}.om`);
    // Each line's timestamp text made once per minute, not once per series.
    const stamps = Array.from({ length: to - from }, (_, k) => ` ${(FIRST_MINUTE + from + k) * 60}\n`);
    const fd = openSync(file, 'w');
    try {
      for (const [name, value] of [
        ['sloguard_minute_requests', total],
        ['sloguard_minute_errors', errors],
      ] as const) {
        writeSync(fd, `# TYPE ${name} gauge\n`);
        for (let i = 0; i < count; i++) {
          const prefix = `${name}{series="${i}"} `;
          let text = '';
          for (let k = 0; k < stamps.length; k++) text += prefix + value(i, from + k) + stamps[k]!;
          writeSync(fd, text);
        }
      }
      writeSync(fd, '# EOF\n');
    } finally {
      closeSync(fd);
    }
    files.push(file);
    from = to;
  }
  return files;
}

/**
 * promtool over each file at once (under /usr/bin/time, for its CPU time); resolves when all have written their
 * blocks into the TSDB folder, with the CPU seconds they took in all (user and system).
 */
async function createBlocks(files: readonly string[]): Promise<number> {
  const cpu = await Promise.all(
    files.map(async (file) => {
      const timeFile = `${file}.time`;
      const promtool = spawn(
        '/usr/bin/time',
        ['-f', '%U %S', '-o', timeFile, 'promtool', 'tsdb', 'create-blocks-from', 'openmetrics'].concat([
          '--max-block-duration=744h',
          '--quiet',
          file,
          promData,
        ]),
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      promtool.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      const [code] = (await once(promtool, 'exit')) as [number | null];
      rmSync(file);
      if (code !== 0) throw new Error(`promtool on ${file} exited ${code}: ${stderr}`);
      const [user, system] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
      return user! + system!;
    }),
  );
  return cpu.reduce((sum, seconds) => sum + seconds, 0);
}

/**
 * Prometheus over the backfilled blocks: started afresh each round (`start`), asked the SLIs' two sums, and
 * stopped. `settle` (once, after the first start) waits until the blocks are loaded and compacted.
 */
class PrometheusServer {
  private server: ChildProcess | undefined;
  private base = '';
  private readonly config = join(dir.path, 'prometheus.yml');

  constructor() {
    writeFileSync(this.config, 'global: { scrape_interval: 1h }\nscrape_configs: []\n');
  }

  async start(): Promise<void> {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    this.server = spawn(
      'prometheus',
      [
        `--config.file=${this.config}`,
        `--storage.tsdb.path=${promData}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=10y',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      'prometheus ready',
      async () => (await fetch(`${this.base}/-/ready`).catch(() => undefined))?.ok,
      { timeoutMs: 60_000 },
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGTERM');
    await once(server, 'exit');
  }

  /** One instant query at the last sample's time: series → value. */
  private async query(expr: string): Promise<Map<number, number>> {
    const at = (END_MS - MINUTE_MS) / 1000;
    const url = `${this.base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${at}`;
    const body = (await (await fetch(url)).json()) as {
      data: { result: Array<{ metric: { series: string }; value: [number, string] }> };
    };
    return new Map(body.data.result.map((r) => [Number(r.metric.series), Number(r.value[1])]));
  }

  /**
   * Waits for the backfilled blocks to answer, then for the steady state: the compactor runs once a minute and
   * merges blocks level by level; it is done when a whole run (between two increments of `triggered`)
   * compacted nothing. Returns the TSDB's block count and the compactions seen.
   */
  async settle(): Promise<{ blocks: number; compactions: number; ms: number }> {
    await waitFor(
      'backfilled blocks loaded',
      async () => (await this.query('count_over_time(sloguard_minute_requests[28d])')).get(0) === MINUTES,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const started = performance.now();
    const counters = async () => ({
      triggered: await prometheusCounter(this.base, 'prometheus_tsdb_compactions_triggered_total'),
      compactions: await prometheusCounter(this.base, 'prometheus_tsdb_compactions_total'),
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
    return { blocks: blockCount(promData), compactions: seen.compactions, ms: performance.now() - started };
  }

  /** Both sums over the 28 days, timed from request to the last answer, and the SLIs they give. */
  async ask(): Promise<{ ms: number; sli: Map<number, number> }> {
    const t0 = performance.now();
    const [requests, failures] = await Promise.all([
      this.query('sum_over_time(sloguard_minute_requests[28d])'),
      this.query('sum_over_time(sloguard_minute_errors[28d])'),
    ]);
    const ms = performance.now() - t0;
    return { ms, sli: new Map([...requests].map(([i, t]) => [i, (t - failures.get(i)!) / t])) };
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

const cpuSeconds = ({ user, system }: NodeJS.CpuUsage) => `${((user + system) / 1e6).toFixed(0)} s`;
const seconds = (fromMs: number) => `${((performance.now() - fromMs) / 1000).toFixed(0)} s`;

/** Why Prometheus's side is not measured, or undefined when it is. */
function prometheusMissing(): string | undefined {
  if (PROM_SERIES === 0) return 'skipped (--prometheus-series 0)';
  if (!existsSync('/usr/bin/prometheus') || !existsSync('/usr/bin/promtool'))
    return 'prometheus is not installed (flock /tmp/apt.lock apt-get install -y prometheus)';
  return undefined;
}

const missing = prometheusMissing();
const prometheus = missing === undefined ? new PrometheusServer() : undefined;
try {
  const started = performance.now();
  const startedCpu = process.cpuUsage();
  // promtool runs in its own processes while this one writes sloguard's database: the two backfills share the
  // two cores instead of following each other.
  let blocksWritten: Promise<number> | undefined;
  if (prometheus) {
    mkdirSync(promData);
    const files = writeOpenMetrics(PROM_SERIES);
    process.stdout.write(
      `prometheus: ${seconds(started)} writing ${PROM_SERIES} series as ${files.length} OpenMetrics files (one per block range), ${cpuSeconds(process.cpuUsage(startedCpu))} of CPU (${loadText()})\n`,
    );
    blocksWritten = createBlocks(files);
    // Marked handled now (awaited below), so a promtool failure during sloguard's backfill is not unhandled.
    blocksWritten.catch(() => undefined);
  } else process.stdout.write(`Prometheus side not measured: ${missing}\n`);
  const ours = performance.now();
  const oursCpu = process.cpuUsage();
  backfill();
  process.stdout.write(
    `sloguard: backfill of ${SERIES} series × ${MINUTES} minutes took ${seconds(ours)}, ${cpuSeconds(process.cpuUsage(oursCpu))} of CPU (${loadText()})\n`,
  );
  const dbBytes = statSync(dbPath).size;
  if (prometheus && blocksWritten) {
    const promtoolCpu = await blocksWritten;
    process.stdout.write(
      `prometheus: promtool done ${seconds(started)} after the start, ${promtoolCpu.toFixed(0)} s of CPU, ${blockCount(promData)} blocks (${loadText()})\n`,
    );
    await prometheus.start();
    const settled = await prometheus.settle();
    await prometheus.stop();
    process.stdout.write(
      `prometheus: ${settled.blocks} blocks, settled in ${(settled.ms / 1000).toFixed(0)} s (${settled.compactions} compactions); both sides ready ${seconds(started)} after the start (${loadText()})\n`,
    );
  }
  const cacheDrop = dropPageCache();
  process.stdout.write(
    cacheDrop === undefined
      ? 'each round starts with the page cache dropped (sync; echo 1 > /proc/sys/vm/drop_caches)\n'
      : `the page cache cannot be dropped (${cacheDrop}): rounds start on a warm page cache\n`,
  );
  const baseline = `Prometheus sum_over_time over ${PROM_SERIES} series`;
  const comparison = (what: string) =>
    new Comparison(`${PROM_SERIES} SLOs over 28 days, ${what}`, 'ms', baseline, 'baseline/ours');
  const first = comparison(
    "sloguard's first evaluation after opening the store against Prometheus's first answer after its start",
  );
  const warm = comparison('sloguard warm against Prometheus warm');
  const firstOfWarm = comparison("sloguard's first evaluation against Prometheus warm");
  const all = {
    first: [] as number[],
    firstCpu: [] as number[],
    warm: [] as number[],
    ragged: [] as number[],
    promFirst: [] as number[],
    promWarm: [] as number[],
  };
  for (let round = 0; round < ROUNDS; round++) {
    const path = copyDatabase();
    if (cacheDrop === undefined) dropPageCache();
    await prometheus?.start();
    const ours = sloguardRound(SERIES, path);
    all.first.push(ours.firstMs);
    all.firstCpu.push(ours.firstCpuMs);
    all.warm.push(ours.warmMs);
    all.ragged.push(ours.raggedMs);
    for (let i = 0; i < SERIES; i++) {
      const difference = Math.abs(ours.sli.get(`slo-${i}`)! - expectedSli(i));
      if (!(difference <= 1e-9)) throw new Error(`slo-${i}: SLI off by ${difference}`);
    }
    if (!prometheus) continue;
    // The same series on both sides: with --prometheus-series below --series, sloguard evaluates that many too.
    const same = PROM_SERIES === SERIES ? ours : sloguardRound(PROM_SERIES, path);
    const theirs = await prometheus.ask();
    const theirsWarm = await prometheus.ask();
    await prometheus.stop();
    all.promFirst.push(theirs.ms);
    all.promWarm.push(theirsWarm.ms);
    let worst = 0;
    for (let i = 0; i < PROM_SERIES; i++)
      worst = Math.max(worst, Math.abs(same.sli.get(`slo-${i}`)! - theirs.sli.get(i)!));
    if (!(worst <= 1e-9)) throw new Error(`sloguard and Prometheus disagree by up to ${worst}`);
    first.add(same.firstMs, theirs.ms);
    warm.add(same.warmMs, theirsWarm.ms);
    firstOfWarm.add(same.firstMs, theirsWarm.ms);
  }
  figure(`sloguard: ${SERIES} SLOs over 28 days, first evaluation after opening the store`, all.first, 'ms');
  figure(`sloguard: ${SERIES} SLOs over 28 days, CPU time of the first evaluation`, all.firstCpu, 'ms');
  figure(`sloguard: ${SERIES} SLOs over 28 days, warm evaluation`, all.warm, 'ms');
  figure(`sloguard: ${SERIES} SLOs over 28 days, warm, 37 minutes past the hour`, all.ragged, 'ms');
  process.stdout.write(
    `sloguard SLIs equal the generator's exact SLIs to 1e-9 for all ${SERIES}, every round\n`,
  );
  if (prometheus) {
    figure(`Prometheus: ${PROM_SERIES} series, first answer after its start`, all.promFirst, 'ms');
    figure(`Prometheus: ${PROM_SERIES} series, warm answer`, all.promWarm, 'ms');
    process.stdout.write(
      `sloguard and Prometheus SLIs agree to 1e-9 over ${PROM_SERIES} series, every round\n`,
    );
    first.print();
    warm.print();
    firstOfWarm.print();
  }
  figure('database holding 28 days, with latency histograms', [dbBytes / 1e6], 'MB');
  if (prometheus)
    figure(
      `Prometheus blocks holding the same ${PROM_SERIES} series' counts (no latency)`,
      [blocks(promData).reduce((sum, block) => sum + folderBytes(block), 0) / 1e6],
      'MB',
    );
  figure(
    `service RSS with the ${SERIES.toLocaleString('en-US')} SLOs evaluated`,
    [(await serviceRss()) / 1e6],
    'MB',
  );
  process.stdout.write(`the whole bench took ${seconds(started)} (${loadText()})\n`);
} finally {
  await prometheus?.stop();
  dir.cleanup();
}
