import { afterEach, describe, expect, it } from 'vitest';
import {
  errors,
  type History,
  seriesKey,
  THRESHOLDS_US,
  total,
  writeHistory,
} from '../../bench/latencyHistory.js';
import { addCounts, binOf, type SparseCounts } from '../../src/model/histogram.js';
import type { BucketDelta, SeriesDelta } from '../../src/model/series.js';
import { seriesKeyString } from '../../src/model/series.js';
import { BucketStore } from '../../src/store/buckets.js';
import { type Db, openDatabase } from '../../src/store/database.js';

/**
 * The benches' history as it was first written, the slow way the service would write it: a map per minute and
 * binOf per request, an hour of every series per commit, the retention pass after each. The fast writer
 * (arrays, a day of old hours per commit) must leave exactly the same rows.
 */
function writeSlowly(db: Db, history: History): void {
  const store = new BucketStore(db, history.minuteRetentionDays);
  const hours = history.days * 24;
  const firstMinute = history.endMs / 60_000 - hours * 60;
  const firstFullHour = store.oldestMinuteKept(history.endMs) / 60;
  let state = 42;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const minute = (requests: number, failed: number): BucketDelta => {
    const histogram: SparseCounts = new Map();
    const thresholds: SparseCounts = new Map(THRESHOLDS_US.map((t) => [t, 0]));
    for (let r = 0; r < requests; r++) {
      const us = Math.round(random() * random() * 2000) * 1000;
      histogram.set(binOf(us), (histogram.get(binOf(us)) ?? 0) + 1);
      for (const t of THRESHOLDS_US) if (us <= t) thresholds.set(t, thresholds.get(t)! + 1);
    }
    return { total: requests, errors: failed, histogram, thresholds, rules: new Map() };
  };
  for (let h = 0; h < hours; h++) {
    const hourStart = firstMinute + h * 60;
    const collapsed = hourStart / 60 < firstFullHour;
    const series = new Map<string, SeriesDelta>();
    for (let i = 0; i < history.series; i++) {
      const minutes = new Map<number, BucketDelta>();
      let hourly: BucketDelta | undefined;
      for (let m = h * 60; m < (h + 1) * 60; m++) {
        const delta = minute(total(i, m), errors(i, m));
        if (!collapsed) minutes.set(firstMinute + m, delta);
        else if (!hourly) hourly = delta;
        else {
          hourly.total += delta.total;
          hourly.errors += delta.errors;
          addCounts(hourly.histogram, delta.histogram);
          addCounts(hourly.thresholds, delta.thresholds);
        }
      }
      if (hourly) minutes.set(hourStart, hourly);
      series.set(seriesKeyString(seriesKey(i)), {
        key: seriesKey(i),
        firstSeenMs: hourStart * 60_000,
        lastSeenMs: (hourStart + 60) * 60_000 - 1,
        minutes,
        rules: [],
      });
    }
    store.commit({ series, rows: [], inTransaction: [] });
    store.applyRetention((hourStart + 60) * 60_000, 400);
  }
}

const rowsOf = (db: Db) => ({
  series: db.prepare('SELECT * FROM series ORDER BY id').all(),
  minutes: db.prepare('SELECT * FROM minute_buckets ORDER BY series_id, minute').all(),
  hours: db.prepare('SELECT * FROM hour_buckets ORDER BY series_id, hour').all(),
});

describe('the benches latency history', () => {
  const open: Db[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });
  const fresh = () => {
    const db = openDatabase(':memory:');
    open.push(db);
    return db;
  };

  it.each([
    { series: 5, days: 3, minuteRetentionDays: 1, endMs: Date.UTC(2026, 10, 30, 17) },
    { series: 2, days: 4, minuteRetentionDays: 2, endMs: Date.UTC(2026, 10, 30, 0) },
  ])('writes the same rows as an hour a commit, the slow way ($series series, $days days)', (history) => {
    const fast = fresh();
    const slow = fresh();
    writeHistory(fast, history);
    writeSlowly(slow, history);
    const rows = rowsOf(fast);
    expect(rows.series).toHaveLength(history.series);
    expect(rows.hours).toHaveLength(history.series * history.days * 24);
    expect(rows.minutes).toHaveLength(history.series * history.minuteRetentionDays * 24 * 60);
    expect(rows.hours.every((row) => (row as { histogram: Buffer | null }).histogram !== null)).toBe(true);
    expect(rows).toEqual(rowsOf(slow));
  });
});
