import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { binOf, encodeCounts, estimateAtOrUnder, type SparseCounts } from '../../src/model/histogram.js';
import { BucketStore } from '../../src/store/buckets.js';
import { openDatabase } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

const HOUR = Math.floor(Date.UTC(2026, 10, 23, 10) / 3_600_000);
const THRESHOLD_US = 250_000;

function histogramOf(durationsUs: number[]): SparseCounts {
  const histogram: SparseCounts = new Map();
  for (const us of durationsUs) histogram.set(binOf(us), (histogram.get(binOf(us)) ?? 0) + 1);
  return histogram;
}

/**
 * A database as the release before the compact histograms left it: every migration before the one that
 * recodes them (later ones may follow it), histograms stored as pairs of varints (encodeCounts), the indexes
 * by time in place.
 */
function oldDatabase(path: string, minute: SparseCounts, hour: SparseCounts): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const recoding = MIGRATIONS.findIndex((migration) => migration.includes('recode_histogram('));
  expect(recoding).toBeGreaterThan(0);
  for (const migration of MIGRATIONS.slice(0, recoding)) db.exec(migration);
  db.pragma(`user_version = ${recoding}`);
  db.pragma(`application_id = ${0x534c4f47}`);
  db.prepare(
    `INSERT INTO series (id, kind, source, service, operation, method, first_seen_ms, last_seen_ms) VALUES (1, 'loadbalancer', 'edge', 'shop', '/cart', 'GET', 0, 0)`,
  ).run();
  const put = (table: string, column: string, slot: number, histogram: SparseCounts | null) =>
    db
      .prepare(`INSERT INTO ${table} (series_id, ${column}, total, errors, histogram) VALUES (1, ?, ?, 0, ?)`)
      .run(
        slot,
        histogram ? [...histogram.values()].reduce((a, b) => a + b, 0) : 3,
        histogram && encodeCounts(histogram),
      );
  put('minute_buckets', 'minute', HOUR * 60 + 5, minute);
  put('minute_buckets', 'minute', HOUR * 60 + 6, null);
  put('hour_buckets', 'hour', HOUR - 1, hour);
  db.close();
}

describe('migration to compact histograms', () => {
  it('recodes the histograms of a database made by the old schema, counts and estimates unchanged', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'sloguard.db');
    const minute = histogramOf([40_000, 120_000, 120_500, 260_000, 1_900_000]);
    const hour = histogramOf(Array.from({ length: 900 }, (_, i) => 1_000 * ((i * 37) % 2_000)));
    oldDatabase(path, minute, hour);

    const db = openDatabase(path);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const indexes = db
        .prepare<[], string>(`SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE '%_by_time'`)
        .pluck()
        .all();
      expect(indexes).not.toContain('minute_buckets_by_time');
      expect(indexes).not.toContain('hour_buckets_by_time');
      // The hour's histogram is stored in about half the bytes it took.
      const stored = db.prepare<[], Buffer>('SELECT histogram FROM hour_buckets').pluck().get()!;
      expect(stored.length).toBeLessThan(0.6 * encodeCounts(hour).length);

      const store = new BucketStore(db, 10_000);
      const [series] = store.listSeries();
      const at = (slot: number) => slot * 60_000;
      const minutes = store.windowCounts([series!.id], at(HOUR * 60), at(HOUR * 60 + 7), THRESHOLD_US);
      const expected = estimateAtOrUnder(minute, THRESHOLD_US);
      expect(minutes).toMatchObject({ total: 8, timed: 5, latencyErrorBound: expected.errorBound });
      expect(minutes.latencyGood).toBeCloseTo(expected.good, 12);
      const hours = store.windowCounts([series!.id], at((HOUR - 1) * 60), at(HOUR * 60), THRESHOLD_US);
      const expectedHour = estimateAtOrUnder(hour, THRESHOLD_US);
      expect(hours).toMatchObject({ total: 900, timed: 900, latencyErrorBound: expectedHour.errorBound });
      expect(hours.latencyGood).toBeCloseTo(expectedHour.good, 12);

      // Retention still removes old rows without the indexes by time.
      const removed = new BucketStore(db, 1).applyRetention(at(HOUR * 60 + 6) + 86_400_000 * 400, 400);
      expect(removed).toMatchObject({ minutes: 2, hours: 1 });
    } finally {
      db.close();
    }
  });
});
