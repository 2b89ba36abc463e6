/**
 * 28 days of per-minute traffic of N load-balancer series WITH latency, written through the store's batch
 * writer (BucketStore.commit) the way a live service writes it: an hour of every series per commit, in time
 * order, with the hourly retention pass between. The disk and evaluate benches build their databases with it.
 *
 * Latencies are drawn as bench/nginxLog.ts draws them (nginx's $request_time: `random() * random() * 2` s,
 * millisecond resolution), so each minute's histogram is what a real nginx import makes of 10–20 requests,
 * and every bucket holds exact counts at the two declared thresholds THRESHOLDS_US.
 *
 * Hours older than the minute retention are committed as one minute holding the hour's sums: the service
 * would write their 60 minutes and retention would delete them before the end, so the database left at the
 * end is the same (hour rollups, minute rows, histograms and thresholds), and the bench takes seconds where
 * 40 million minute commits would take most of an hour.
 */
import { addCounts, binOf, type SparseCounts } from '../src/model/histogram.js';
import type { BucketDelta, SeriesDelta, SeriesKey } from '../src/model/series.js';
import { seriesKeyString } from '../src/model/series.js';
import { BucketStore } from '../src/store/buckets.js';
import type { Db } from '../src/store/database.js';

const MINUTE_MS = 60_000;

/** The latency thresholds the SLOs declare (300 ms and 1 s): counted exactly in every bucket. */
export const THRESHOLDS_US = [300_000, 1_000_000] as const;
/** The service's default hour retention (SLOGUARD_HOUR_RETENTION_DAYS is at least 400). */
const HOUR_RETENTION_DAYS = 400;

/** Deterministic per-minute traffic of series i at minute m of the history: 10–20 requests, a few 5xx. */
export const total = (i: number, m: number) => 10 + ((i * 7 + m * 13) % 11);
export const errors = (i: number, m: number) => ((i * 31 + m) % 97 === 0 ? 1 + (m % 3) : 0);

/** The exact SLI of series i over its first `minutes` minutes of the generated history. */
export function expectedSli(i: number, minutes: number): number {
  let t = 0;
  let e = 0;
  for (let m = 0; m < minutes; m++) {
    t += total(i, m);
    e += errors(i, m);
  }
  return (t - e) / t;
}

/** The seeded generator of bench/nginxLog.ts. */
function seeded(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** A minute's latency histogram and threshold counts of `requests` requests, drawn from `random`. */
function latencies(requests: number, random: () => number): Pick<BucketDelta, 'histogram' | 'thresholds'> {
  const histogram: SparseCounts = new Map();
  const thresholds: SparseCounts = new Map(THRESHOLDS_US.map((t) => [t, 0]));
  for (let r = 0; r < requests; r++) {
    const us = Math.round(random() * random() * 2000) * 1000;
    const bin = binOf(us);
    histogram.set(bin, (histogram.get(bin) ?? 0) + 1);
    for (const t of THRESHOLDS_US) if (us <= t) thresholds.set(t, thresholds.get(t)! + 1);
  }
  return { histogram, thresholds };
}

export interface History {
  series: number;
  days: number;
  /** The end of the history (a whole hour): the last minute written is the one before it. */
  endMs: number;
  minuteRetentionDays: number;
}

export const seriesKey = (i: number): SeriesKey => ({
  kind: 'loadbalancer',
  source: 'edge',
  service: `svc-${i % 100}`,
  operation: `/r/${i}`,
  method: 'GET',
});

/** Writes the history into `db` (a fresh sloguard database) and returns the number of commits. */
export function writeHistory(db: Db, history: History): number {
  const store = new BucketStore(db, history.minuteRetentionDays);
  const hours = history.days * 24;
  const firstMinute = history.endMs / MINUTE_MS - hours * 60;
  const firstFullHour = store.oldestMinuteKept(history.endMs) / 60;
  const keys = Array.from({ length: history.series }, (_, i) => seriesKey(i));
  const keyStrings = keys.map(seriesKeyString);
  // Histograms are drawn once per (series, minute) from a seed of both, so every run writes the same buckets.
  const random = seeded(42);
  let commits = 0;
  for (let h = 0; h < hours; h++) {
    const hourStart = firstMinute + h * 60;
    const collapsed = hourStart / 60 < firstFullHour;
    const series = new Map<string, SeriesDelta>();
    for (let i = 0; i < history.series; i++) {
      const minutes = new Map<number, BucketDelta>();
      let hourly: BucketDelta | undefined;
      for (let m = h * 60; m < (h + 1) * 60; m++) {
        const requests = total(i, m);
        const delta: BucketDelta = {
          total: requests,
          errors: errors(i, m),
          ...latencies(requests, random),
          rules: new Map(),
        };
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
      series.set(keyStrings[i]!, {
        key: keys[i]!,
        firstSeenMs: (firstMinute + h * 60) * MINUTE_MS,
        lastSeenMs: (firstMinute + (h + 1) * 60) * MINUTE_MS - 1,
        minutes,
        rules: [],
      });
    }
    store.commit({ series, rows: [], inTransaction: [] });
    commits += 1;
    // The service's retention pass runs every hour.
    store.applyRetention((hourStart + 60) * MINUTE_MS, HOUR_RETENTION_DAYS);
  }
  return commits;
}
