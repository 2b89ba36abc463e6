/**
 * The data of one point of the cost curves (bench/curves.bench.ts): `slos` SLOs of 10 per service, each over
 * a route series of its own with a request count every minute for 28 days, and `series - slos` further route
 * series of the same services with the long tail's traffic (one minute with requests every SPARSE_HOURS
 * hours). The SQLite file is built directly with the real schema (the migrations run by openDatabase): minute
 * rows within minute retention and hour rollups for all 28 days, as BucketStore.commit leaves them for
 * availability counts (no latency histograms: see docs/benchmarks.md). Tens of millions of read-modify-write
 * commits through the store would take hours; these are the same rows, written in minutes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../src/store/database.js';
import { SloguardProcess } from '../test/helpers/service.js';
import { errors, expectedSli as generatedSli, total } from './latencyHistory.js';
import { AS_IN_PRODUCTION } from './method.js';

export const DAYS = 28;
export const MINUTES = DAYS * 24 * 60;
const MINUTE_MS = 60_000;
/** SLOs per service: the gate asks about one service, whose SLO count stays the same at every point. */
export const SLOS_PER_SERVICE = 10;
/** The long tail's series see requests in one minute of every SPARSE_HOURS hours (four times a day). */
export const SPARSE_HOURS = 6;

export interface CurvePoint {
  /** SLOs, each over a series of its own with traffic every minute. */
  slos: number;
  /** Route series in all: the SLOs' own and the long tail's. */
  series: number;
}

export const servicesOf = (point: CurvePoint) => Math.max(1, Math.ceil(point.slos / SLOS_PER_SERVICE));
export const serviceName = (index: number) => `svc-${index}`;
/** Series i (0-based) is route /r/i of service i mod services; SLO i selects series i. */
export const serviceOf = (point: CurvePoint, i: number) => serviceName(i % servicesOf(point));

/** The exact SLI of SLO i over the whole 28 days. */
export const expectedSli = (i: number) => generatedSli(i, MINUTES);

/** One native SLO document per SLO, availability over 28 days at 99.5% (its series spend about a quarter of that). */
export function writeDefinitions(folder: string, point: CurvePoint): void {
  mkdirSync(folder, { recursive: true });
  const documents: string[] = [];
  for (let i = 0; i < point.slos; i++) {
    documents.push(`apiVersion: sloguard/v1
kind: SLO
metadata: { name: slo-${i}, service: ${serviceOf(point, i)} }
spec:
  indicator: { source: loadbalancer, select: { route: "/r/${i}", method: GET } }
  objective: 99.5
  window: 28d
`);
  }
  writeFileSync(join(folder, 'slos.yaml'), documents.join('---\n'));
}

/**
 * Builds the database of a point ending at `endMinute` (epoch minutes, exclusive): returns its size in bytes.
 * The time indexes are dropped while rows go in and made again after (one sort instead of tens of millions of
 * scattered inserts); their definitions are read from the schema itself, so the file ends as the migrations
 * left it.
 */
export function buildDatabase(
  path: string,
  point: CurvePoint,
  endMinute: number,
  minuteRetentionDays: number,
): void {
  openDatabase(path).close();
  const db = new Database(path);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const indexes = db
      .prepare<[], { name: string; sql: string }>(
        `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('minute_buckets', 'hour_buckets')`,
      )
      .all();
    for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
    const firstMinute = endMinute - MINUTES;
    const keepFrom = MINUTES - minuteRetentionDays * 24 * 60;
    const insertSeries = db.prepare(
      `INSERT INTO series (id, kind, source, service, operation, method, first_seen_ms, last_seen_ms) VALUES (?, 'loadbalancer', 'edge', ?, ?, 'GET', ?, ?)`,
    );
    const minuteRow = db.prepare(
      'INSERT INTO minute_buckets (series_id, minute, total, errors) VALUES (?, ?, ?, ?)',
    );
    const hourRow = db.prepare(
      'INSERT INTO hour_buckets (series_id, hour, total, errors) VALUES (?, ?, ?, ?)',
    );
    const firstHour = Math.floor(firstMinute / 60);
    const hours = Math.ceil(endMinute / 60) - firstHour;
    const hourTotals = new Float64Array(hours);
    const hourErrors = new Float64Array(hours);
    /** One series' rows: requests in every `step`-th minute of the 28 days from `offset`, [total, errors] by `at`. */
    const writeSeries = (i: number, offset: number, step: number, at: (m: number) => [number, number]) => {
      const lastM = offset + Math.floor((MINUTES - 1 - offset) / step) * step;
      insertSeries.run(
        i + 1,
        serviceOf(point, i),
        `/r/${i}`,
        (firstMinute + offset) * MINUTE_MS,
        (firstMinute + lastM + 1) * MINUTE_MS - 1,
      );
      hourTotals.fill(0);
      hourErrors.fill(0);
      for (let m = offset; m < MINUTES; m += step) {
        const [t, e] = at(m);
        const minute = firstMinute + m;
        if (m >= keepFrom) minuteRow.run(i + 1, minute, t, e);
        hourTotals[Math.floor(minute / 60) - firstHour]! += t;
        hourErrors[Math.floor(minute / 60) - firstHour]! += e;
      }
      for (let h = 0; h < hours; h++)
        if (hourTotals[h]! > 0) hourRow.run(i + 1, firstHour + h, hourTotals[h]!, hourErrors[h]!);
    };
    const sparseStep = SPARSE_HOURS * 60;
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        if (i < point.slos) writeSeries(i, 0, 1, (m) => [total(i, m), errors(i, m)]);
        else writeSeries(i, (i * 7) % sparseStep, sparseStep, () => [1 + (i % 3), 0]);
      }
    });
    const perBatch = 1_000;
    for (let from = 0; from < point.series; from += perBatch)
      batch(from, Math.min(point.series, from + perBatch));
    for (const index of indexes) db.exec(index.sql);
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}

/**
 * `sloguard serve` on a fixture as in production (its default log level; the tests' helper starts it at warn),
 * the per-client gate limit lifted (it would refuse a load test from one address, as in bench/gate.bench.ts),
 * evaluating every `intervalS`. `configDir` receives its settings file; `command` runs another build.
 */
export function startFixtureService(options: {
  definitions: string;
  databasePath: string;
  configDir: string;
  intervalS: number;
  minuteRetentionDays: number;
  command?: string | undefined;
}): Promise<SloguardProcess> {
  const config = join(options.configDir, 'sloguard.yaml');
  writeFileSync(config, 'rateLimits: { gatePerMinute: 100000000 }\n');
  return SloguardProcess.start({
    definitions: options.definitions,
    databasePath: options.databasePath,
    readyTimeoutMs: 300_000,
    env: {
      ...AS_IN_PRODUCTION,
      SLOGUARD_CONFIG: config,
      SLOGUARD_LOG_LEVEL: 'info',
      SLOGUARD_EVALUATION_INTERVAL: `${options.intervalS}s`,
      SLOGUARD_MINUTE_RETENTION_DAYS: String(options.minuteRetentionDays),
    },
    ...(options.command !== undefined && { command: options.command }),
  });
}
