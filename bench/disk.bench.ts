/**
 * Disk with latency (issue #23): the database holding 28 days of 1,000 load-balancer series WITH the latency
 * histograms and threshold counts a real nginx import writes (bench/latencyHistory.ts: through the store's
 * batch writer, the retention pass after each commit), as the service keeps it by default (3 days of minute
 * rows, hour rollups for the rest). Prints the file's size, MB per series-day and where the bytes are
 * (SQLite's dbstat: each table and index). Target: ≤ 200 MB for 1,000 series × 28 days.
 *
 *   npm run bench -- disk
 *   npx tsx bench/disk.bench.ts [--series 1000] [--days 28] [--minute-retention-days 3]
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MINUTE_RETENTION_DAYS } from '../src/config/config.js';
import { openDatabase } from '../src/store/database.js';
import { tempDir } from '../test/helpers/tmp.js';
import { writeHistory } from './latencyHistory.js';
import { figure, loadText } from './method.js';

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '1000' },
    days: { type: 'string', default: '28' },
    'minute-retention-days': { type: 'string', default: String(DEFAULT_MINUTE_RETENTION_DAYS) },
  },
});
const SERIES = Number(values.series);
const DAYS = Number(values.days);
const HOUR_MS = 3_600_000;

const dir = tempDir('sloguard-bench-disk-');
try {
  const path = join(dir.path, 'sloguard.db');
  const db = openDatabase(path);
  const started = performance.now();
  const commits = writeHistory(db, {
    series: SERIES,
    days: DAYS,
    endMs: Math.floor(Date.now() / HOUR_MS) * HOUR_MS,
    minuteRetentionDays: Number(values['minute-retention-days']),
  });
  db.pragma('wal_checkpoint(TRUNCATE)');
  process.stdout.write(
    `wrote ${SERIES} series × ${DAYS} days in ${commits} commits, ${((performance.now() - started) / 1000).toFixed(1)} s (${loadText()})\n`,
  );
  const rows = db
    .prepare<[], { name: string; pages: number; bytes: number; payload: number }>(
      `SELECT name, count(*) AS pages, sum(pgsize) AS bytes, sum(payload) AS payload FROM dbstat GROUP BY name ORDER BY bytes DESC`,
    )
    .all();
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const counts = db
    .prepare<[], { minutes: number; hours: number }>(
      `SELECT (SELECT count(*) FROM minute_buckets) AS minutes, (SELECT count(*) FROM hour_buckets) AS hours`,
    )
    .get()!;
  db.close();
  for (const row of rows.slice(0, 8))
    process.stdout.write(
      `  ${row.name}: ${(row.bytes / 1e6).toFixed(1)} MB in ${row.pages} pages (payload ${(row.payload / 1e6).toFixed(1)} MB, ${((100 * row.payload) / row.bytes).toFixed(0)}% of the pages)\n`,
    );
  process.stdout.write(
    `  free pages: ${((free * pageSize) / 1e6).toFixed(1)} MB; ${counts.minutes.toLocaleString('en-US')} minute rows, ${counts.hours.toLocaleString('en-US')} hour rows\n`,
  );
  const bytes = statSync(path).size;
  figure(`database holding ${SERIES} series × ${DAYS} days with latency histograms`, [bytes / 1e6], 'MB');
  figure('per series-day', [bytes / 1e6 / (SERIES * DAYS)], 'MB');
  figure(`projected to 1,000 series × 28 days`, [((bytes / (SERIES * DAYS)) * 28_000) / 1e6], 'MB');
} finally {
  dir.cleanup();
}
