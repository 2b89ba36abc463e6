/**
 * 28 days of per-minute traffic of N load-balancer series WITH latency, written through the store's batch
 * writer (BucketStore.commit) the way a live service writes it: every series in each commit, in time order,
 * with the retention pass between. The disk and evaluate benches build their databases with it.
 *
 * Latencies are drawn as bench/nginxLog.ts draws them (nginx's $request_time: `random() * random() * 2` s,
 * millisecond resolution), so each minute's histogram is what a real nginx import makes of 10–20 requests,
 * and every bucket holds exact counts at the two declared thresholds THRESHOLDS_US.
 *
 * Hours older than the minute retention are committed as one minute holding the hour's sums: the service
 * would write their 60 minutes and retention would delete them before the end, so the database left at the
 * end is the same (hour rollups, minute rows, histograms and thresholds), and the bench takes seconds where
 * 40 million minute commits would take most of an hour. Those hours go a day to a commit, the last day's an
 * hour to a commit. test/unit/latency-history.test.ts checks the rows against the slow way: a map per minute,
 * an hour of every series per commit and the retention pass after each.
 */
import { BIN_COUNT, binOf, type SparseCounts } from '../src/model/histogram.js';
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
    // `x % 2^31` exactly, without the floating-point remainder's slow call (dividing by a power of two is exact).
    const next = state * 1103515245 + 12345;
    state = next - Math.floor(next / 2147483648) * 2147483648;
    return state / 2147483648;
  };
}

/** Latencies are whole milliseconds up to 2 s: each one's bin is looked up, not computed (binOf takes a log). */
const MAX_LATENCY_MS = 2000;
const BIN_OF_MS = Uint16Array.from({ length: MAX_LATENCY_MS + 1 }, (_, ms) => binOf(ms * 1000));
const THRESHOLDS_MS = THRESHOLDS_US.map((us) => us / 1000);

/**
 * The requests of a minute or an hour, counted per latency bin and at or under each threshold in arrays:
 * a map per minute, merged sixty times into the hour's, was most of the time the history took to write.
 */
class Tally {
  private readonly bins = new Uint32Array(BIN_COUNT);
  private readonly under = new Uint32Array(THRESHOLDS_MS.length);
  /** The bins written since the last clear lie in [low, high]. */
  private low = BIN_COUNT;
  private high = -1;
  private total = 0;
  private errors = 0;

  clear(): void {
    if (this.high >= this.low) this.bins.fill(0, this.low, this.high + 1);
    this.under.fill(0);
    this.low = BIN_COUNT;
    this.high = -1;
    this.total = 0;
    this.errors = 0;
  }

  /** Draws `requests` latencies as bench/nginxLog.ts draws `$request_time`, from `random`. */
  draw(requests: number, errors: number, random: () => number): void {
    this.total += requests;
    this.errors += errors;
    for (let r = 0; r < requests; r++) {
      const ms = Math.round(random() * random() * MAX_LATENCY_MS);
      const bin = BIN_OF_MS[ms]!;
      this.bins[bin]! += 1;
      if (bin < this.low) this.low = bin;
      if (bin > this.high) this.high = bin;
      for (let t = 0; t < THRESHOLDS_MS.length; t++) if (ms <= THRESHOLDS_MS[t]!) this.under[t]! += 1;
    }
  }

  /** What the store is given for it: a minute's counts, as an import hands them over. */
  delta(): BucketDelta {
    const histogram: SparseCounts = new Map();
    for (let bin = this.low; bin <= this.high; bin++)
      if (this.bins[bin]! > 0) histogram.set(bin, this.bins[bin]!);
    const thresholds: SparseCounts = new Map(THRESHOLDS_US.map((us, t) => [us, this.under[t]!]));
    return { total: this.total, errors: this.errors, histogram, thresholds, rules: new Map() };
  }
}

/**
 * Hours past the minute retention go a day to a commit: a commit rewrites the last pages of every series, so an
 * hour a commit wrote each page 24 times over for the same rows.
 */
const COLLAPSED_HOURS_PER_COMMIT = 24;

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
  const tally = new Tally();
  let batch = new Map<string, SeriesDelta>();
  let batchHours = 0;
  let commits = 0;
  for (let h = 0; h < hours; h++) {
    const hourStart = firstMinute + h * 60;
    const hourEnd = hourStart + 60;
    const collapsed = hourStart / 60 < firstFullHour;
    for (let i = 0; i < history.series; i++) {
      let series = batch.get(keyStrings[i]!);
      if (!series) {
        series = {
          key: keys[i]!,
          firstSeenMs: hourStart * MINUTE_MS,
          lastSeenMs: 0,
          minutes: new Map(),
          rules: [],
        };
        batch.set(keyStrings[i]!, series);
      }
      series.lastSeenMs = hourEnd * MINUTE_MS - 1;
      tally.clear();
      for (let m = h * 60; m < (h + 1) * 60; m++) {
        if (!collapsed) tally.clear();
        tally.draw(total(i, m), errors(i, m), random);
        if (!collapsed) series.minutes.set(firstMinute + m, tally.delta());
      }
      if (collapsed) series.minutes.set(hourStart, tally.delta());
    }
    batchHours += 1;
    if (!collapsed || batchHours === COLLAPSED_HOURS_PER_COMMIT || hourEnd / 60 >= firstFullHour) {
      store.commit({ series: batch, rows: [], inTransaction: [] });
      commits += 1;
      // The service's retention pass runs every hour; rows it deletes are the same when it runs less often.
      store.applyRetention(hourEnd * MINUTE_MS, HOUR_RETENTION_DAYS);
      batch = new Map();
      batchHours = 0;
    }
  }
  return commits;
}
