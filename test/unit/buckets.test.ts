import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import type { Observation } from '../../src/model/observation.js';
import { BucketStore } from '../../src/store/buckets.js';
import { DatabaseError, openDatabase } from '../../src/store/database.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});
function dbPath(): string {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir.path, 'sloguard.db');
}

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const observation = (minute: number, status: number, durationUs?: number): Observation => ({
  timeMs: T0 + minute * 60_000 + 1_000,
  kind: 'loadbalancer',
  source: 'edge',
  service: 'user-profile',
  operation: '/profile/:id',
  method: 'GET',
  status,
  error: status >= 500,
  ...(durationUs !== undefined && { durationUs }),
});

function batchOf(observations: Observation[], thresholds: number[] = []): BatchAggregate {
  const batch = new BatchAggregate(thresholds);
  for (const o of observations) batch.add(o);
  return batch;
}

describe('bucket store', () => {
  it('sums committed batches per window, across minutes and hours', () => {
    const db = openDatabase(dbPath());
    const store = new BucketStore(db, 8);
    store.commit(batchOf([observation(0, 200), observation(0, 503), observation(59, 200)]));
    store.commit(batchOf([observation(0, 200), observation(61, 500), observation(125, 404)]));
    const [series] = store.listSeries();
    const ids = [series!.id];
    const all = store.windowCounts(ids, T0, T0 + 3 * 3_600_000);
    expect([all.total, all.errors]).toEqual([6, 2]);
    const firstHour = store.windowCounts(ids, T0, T0 + 3_600_000);
    expect([firstHour.total, firstHour.errors]).toEqual([4, 1]);
    const ragged = store.windowCounts(ids, T0 + 30 * 60_000, T0 + 126 * 60_000);
    expect([ragged.total, ragged.errors]).toEqual([3, 1]);
    expect(series!.lastSeenMs).toBe(T0 + 125 * 60_000 + 1_000);
    db.close();
  });

  it('counts latency exactly at declared thresholds and estimates older data with a bound', () => {
    const db = openDatabase(dbPath());
    const store = new BucketStore(db, 8);
    const durations = [100_000, 499_000, 500_000, 500_001, 900_000];
    // Minute 0 written before the 500 ms threshold was declared, minute 1 after.
    store.commit(batchOf(durations.map((d) => observation(0, 200, d))));
    store.commit(
      batchOf(
        durations.map((d) => observation(1, 200, d)),
        [500_000],
      ),
    );
    store.commit(batchOf([observation(1, 200)], [500_000]));
    const ids = store.listSeries().map((s) => s.id);
    const exact = store.windowCounts(ids, T0 + 60_000, T0 + 120_000, 500_000);
    expect(exact).toMatchObject({ total: 6, timed: 5, latencyGood: 3, latencyErrorBound: 0 });
    const both = store.windowCounts(ids, T0, T0 + 120_000, 500_000);
    expect(both.timed).toBe(10);
    expect(both.latencyErrorBound).toBeGreaterThan(0);
    expect(Math.abs(both.latencyGood - 6)).toBeLessThanOrEqual(both.latencyErrorBound);
    db.close();
  });

  it('merges a later minute into the row another store wrote there, as one store would', () => {
    // A store inserts a minute later than any it wrote at once, and merges only if the row was there: here
    // it was, written by a store of an earlier process (a resumed import, a restarted service).
    const first = [observation(0, 200, 90_000), observation(1, 503, 400_000), observation(61, 200, 1_000)];
    const second = [observation(1, 200, 300_000), observation(2, 500, 700_000), observation(61, 404, 2_000)];
    const rows = (path: string) => {
      const db = openDatabase(path);
      const read = (table: string) => db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
      const all = { minutes: read('minute_buckets'), hours: read('hour_buckets') };
      db.close();
      return all;
    };
    const oneStore = dbPath();
    const db = openDatabase(oneStore);
    const store = new BucketStore(db, 8);
    store.commit(batchOf(first, [500_000]));
    store.commit(batchOf(second, [500_000]));
    db.close();
    const twoStores = dbPath();
    for (const observations of [first, second]) {
      const db = openDatabase(twoStores);
      new BucketStore(db, 8).commit(batchOf(observations, [500_000]));
      db.close();
    }
    const expected = rows(oneStore);
    expect(expected.minutes.map((row) => (row as { total: number }).total)).toEqual([1, 2, 1, 2]);
    expect(rows(twoStores)).toEqual(expected);
  });

  it('keeps committed data across a reopen', () => {
    const path = dbPath();
    const first = openDatabase(path);
    new BucketStore(first, 8).commit(batchOf([observation(0, 200), observation(0, 502)]));
    first.close();
    const again = openDatabase(path);
    const store = new BucketStore(again, 8);
    const counts = store.windowCounts(
      store.listSeries().map((s) => s.id),
      T0,
      T0 + 60_000,
    );
    expect([counts.total, counts.errors]).toEqual([2, 1]);
    again.close();
  });

  it('applies retention to minutes and hours separately', () => {
    const db = openDatabase(dbPath());
    const store = new BucketStore(db, 1);
    store.commit(batchOf([observation(0, 200), observation(3 * 24 * 60, 200)]));
    const removed = store.applyRetention(T0 + 3 * 86_400_000 + 120_000, 400);
    expect(removed).toEqual({ minutes: 1, hours: 0, slices: 0 });
    db.close();
  });

  it('keeps the ragged edge of a window as long as the minute retention in minutes', () => {
    const db = openDatabase(dbPath());
    const store = new BucketStore(db, 3);
    // Three days before 13:37: one request half a minute before the window, one half a minute into it.
    const now = T0 + 3 * 86_400_000 + 3 * 3_600_000 + 37 * 60_000;
    const edge = now - 3 * 86_400_000;
    store.commit(batchOf([{ ...observation(0, 200), timeMs: edge - 30_000 }]));
    store.commit(batchOf([{ ...observation(0, 503), timeMs: edge + 30_000 }]));
    expect(store.applyRetention(now, 400)).toEqual({ minutes: 0, hours: 0, slices: 0 });
    const ids = store.listSeries().map((s) => s.id);
    const window = store.windowCounts(ids, edge, now);
    expect([window.total, window.errors, window.effectiveFromMs]).toEqual([1, 1, edge]);
    db.close();
  });

  it('refuses a file that is not a sloguard database', () => {
    const path = dbPath();
    writeFileSync(path, 'this is not SQLite at all, just text that is long enough to look like a header');
    expect(() => openDatabase(path)).toThrowError(DatabaseError);
    const foreign = dbPath();
    const sqlite = openDatabase(foreign);
    sqlite.pragma('application_id = 42');
    sqlite.close();
    expect(() => openDatabase(foreign)).toThrowError(/not a sloguard database/);
  });
});

describe('series catalogue (what evaluations look series up in)', () => {
  const other = (service: string, operation: string): Observation => ({
    ...observation(0, 200),
    service,
    operation,
  });

  it('follows this store’s commits, another connection’s commits, and forgets a rolled-back transaction', () => {
    const path = dbPath();
    const db = openDatabase(path);
    const store = new BucketStore(db, 8);
    store.commit(batchOf([observation(0, 200)]));
    const operations = (service: string, operation?: string) =>
      store
        .seriesReader()('loadbalancer', service, operation)
        .map((row) => row.operation)
        .sort();
    expect(operations('user-profile')).toEqual(['/profile/:id']);
    store.commit(batchOf([other('user-profile', '/a'), other('shop', '/b')]));
    expect(operations('user-profile')).toEqual(['/a', '/profile/:id']);
    expect(operations('user-profile', '/a')).toEqual(['/a']);
    expect(operations('shop', '/a')).toEqual([]);
    const [row] = store.seriesReader()('loadbalancer', 'shop', '/b');
    store.commit(batchOf([{ ...other('shop', '/b'), timeMs: T0 + 3_600_000 }]));
    expect(row!.lastSeenMs).toBe(T0 + 3_600_000);

    const writer = openDatabase(path);
    new BucketStore(writer, 8).commit(batchOf([other('shop', '/c')]));
    writer.close();
    expect(operations('shop')).toEqual(['/b', '/c']);

    const failing = batchOf([other('shop', '/d')]);
    failing.alsoInTransaction(() => {
      throw new Error('disk full');
    });
    expect(() => store.commit(failing)).toThrow('disk full');
    expect(operations('shop')).toEqual(['/b', '/c']);
  });
});
