/**
 * The dashboard's chart query: GET /api/v1/slos/:name/timeseries for a 28-day range at 1-hour steps (672
 * points, each with the SLO window, seven burn-rate windows and the step's traffic), over 56 days of data
 * (the range plus one SLO window of look-back) for an SLO reading 5 series. Baseline in the same run: the
 * same points computed the evaluator's way, its per-window store queries (storeInput) at every step.
 *
 * Both are timed in each round and the speed-up is taken within the round (bench/method.ts).
 *
 *   BENCH_ROUNDS=3 npx tsx bench/timeseries.bench.ts [--series 5]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MINUTE_RETENTION_DAYS } from '../src/config/config.js';
import { loadDefinitions } from '../src/definitions/load.js';
import { evaluateSlo } from '../src/evaluate/status.js';
import { stepTimes } from '../src/evaluate/timeseries.js';
import { binOf, encodeCounts, encodeHistogram } from '../src/model/histogram.js';
import { storeInput } from '../src/sources/store/counts.js';
import { SloHistoryReader } from '../src/sources/store/history.js';
import { BucketStore } from '../src/store/buckets.js';
import { openDatabase } from '../src/store/database.js';
import { TimelineStore } from '../src/store/timeline.js';
import { tempDir } from '../test/helpers/tmp.js';
import { Comparison, rounds } from './method.js';

const { values } = parseArgs({ options: { series: { type: 'string', default: '5' } } });
const SERIES = Number(values.series);
const ROUNDS = rounds(3);
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAYS = 56;
const MINUTE_RETENTION_DAYS = DEFAULT_MINUTE_RETENTION_DAYS;
const END_MS = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
const FIRST_MINUTE = END_MS / MINUTE_MS - DAYS * 1440;

const dir = tempDir('sloguard-bench-ts-');
dir.file(
  'slos.yaml',
  `apiVersion: sloguard/v1
kind: SLO
metadata: { name: api-availability, service: api }
spec:
  indicator: { source: loadbalancer }
  objective: 99.9
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: api-latency, service: api }
spec:
  indicator: { source: loadbalancer, good: { latency: "<= 300ms" } }
  objective: 99
  window: 28d
`,
);
const loaded = loadDefinitions([dir.path]);
if (loaded.errors.length > 0) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
const db = openDatabase(join(dir.path, 'sloguard.db'));

/**
 * Rows written straight into the tables as BucketStore.commit leaves them: minute rows within minute
 * retention, hour rollups for all 56 days, each with a small latency histogram and the exact 300 ms count.
 */
function backfill() {
  const insertSeries = db.prepare(
    `INSERT INTO series (id, kind, source, service, operation, method, first_seen_ms, last_seen_ms) VALUES (?, 'loadbalancer', 'edge', 'api', ?, 'GET', ?, ?)`,
  );
  const put = (table: string, column: string) =>
    db.prepare(
      `INSERT INTO ${table} (series_id, ${column}, total, errors, histogram, thresholds) VALUES (?, ?, ?, ?, ?, ?)`,
    );
  const minute = put('minute_buckets', 'minute');
  const hour = put('hour_buckets', 'hour');
  const bins = (total: number) =>
    new Map([
      [binOf(50_000), Math.ceil(total * 0.8)],
      [binOf(200_000), Math.floor(total * 0.2) - 1],
      [binOf(900_000), 1],
    ]);
  const keepFrom = (DAYS - MINUTE_RETENTION_DAYS) * 1440;
  for (let s = 0; s < SERIES; s++) {
    db.transaction(() => {
      insertSeries.run(s + 1, `/r/${s}`, FIRST_MINUTE * MINUTE_MS, END_MS - 1);
      let hourTotal = 0;
      let hourErrors = 0;
      for (let m = 0; m < DAYS * 1440; m++) {
        const total = 20 + ((s * 7 + m * 13) % 11);
        const errors = (s * 31 + m) % 97 === 0 ? 2 : 0;
        hourTotal += total;
        hourErrors += errors;
        if (m >= keepFrom) {
          minute.run(
            s + 1,
            FIRST_MINUTE + m,
            total,
            errors,
            encodeHistogram(bins(total)),
            encodeCounts(new Map([[300_000, total - 1]])),
          );
        }
        if ((m + 1) % 60 === 0) {
          const h = (FIRST_MINUTE + m + 1) / 60 - 1;
          hour.run(
            s + 1,
            h,
            hourTotal,
            hourErrors,
            encodeHistogram(bins(hourTotal)),
            encodeCounts(new Map([[300_000, hourTotal - 60]])),
          );
          hourTotal = 0;
          hourErrors = 0;
        }
      }
    })();
  }
}

function timed(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

backfill();
const buckets = new BucketStore(db, MINUTE_RETENTION_DAYS);
const reader = new SloHistoryReader(buckets, new TimelineStore(db));
const range = { fromMs: END_MS - 28 * 86_400_000, toMs: END_MS, stepMs: HOUR_MS };

for (const definition of loaded.definitions) {
  const points = reader.read(definition, range, END_MS).points;
  if (points.length !== 672) throw new Error(`expected 672 points, got ${points.length}`);
  const series = buckets.listSeries();
  const comparison = new Comparison(
    `${definition.name}: 28 days at 1h steps (672 points, ${SERIES} series)`,
    'ms',
    'per-step window queries',
    'baseline/ours',
  );
  for (let round = 0; round < ROUNDS; round++) {
    const ours = timed(() => reader.read(definition, range, END_MS));
    // The evaluator's way: eight window queries per series at each of the 672 steps.
    const baseline = timed(() =>
      stepTimes(range).map((atMs) =>
        evaluateSlo(definition, storeInput(buckets, definition, series, atMs), atMs),
      ),
    );
    comparison.add(ours, baseline);
  }
  comparison.print();
}
db.close();
dir.cleanup();
