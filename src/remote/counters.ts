import { badKey, validKey } from '../definitions/eventRules.js';
import { COLLECTOR_METRICS } from '../model/collectorSeries.js';
import { binUpperBound } from '../model/histogram.js';
import type { BucketBatch, BucketDelta, SeriesKey } from '../model/series.js';
import { seriesKeyString } from '../model/series.js';
import { encodeLabels, type Label, type Sample, type TimeSeries } from './writeRequest.js';

/**
 * The counters a collector keeps (docs/scaling.md#series-the-collectors-write): per series key, requests,
 * errors, valid/bad events per counting rule and a latency histogram with a bucket at every threshold the
 * service's SLOs declare plus a fixed ladder. Pure: batches in, samples on a grid out; no clock, no I/O.
 */

/** Bucket bounds (seconds) written for every series, for charts and percentiles. */
export const DURATION_LADDER_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export const DURATION_LADDER_US = DURATION_LADDER_SECONDS.map((seconds) => Math.round(seconds * 1e6));

/** A series with no increment for this long is no longer written until traffic returns. */
export const STALE_AFTER_MS = 5 * 60_000;

interface Counter {
  labels: Label[];
  /** Encoded once: a counter's labels never change. */
  encodedLabels: Uint8Array;
  value: number;
  /** The value and grid time of its last sample; none yet: the counter has never been written. */
  writtenValue: number;
  writtenAtMs: number | undefined;
}

/** The counters of one series key. */
interface SeriesCounters {
  lastIncreasedMs: number;
  requests: Counter;
  errors: Counter;
  durationCount: Counter;
  /** By latency bound (µs); `+Inf` is `durationCount`'s value. */
  buckets: Map<number, Counter>;
  infBucket: Counter;
  /** By validKey / badKey of the counting rule. */
  rules: Map<number, Counter>;
}

/** Prometheus' text for a bound in seconds: `0.25`, `1`, `+Inf`. */
export function leText(us: number): string {
  return Number.isFinite(us) ? String(us / 1e6) : '+Inf';
}

/** Requests at or under `boundUs`: the exact count when the delta kept one, else the histogram's bins under it. */
function atOrUnder(delta: BucketDelta, boundUs: number): number {
  const exact = delta.thresholds.get(boundUs);
  if (exact !== undefined) return exact;
  let count = 0;
  for (const [bin, binCount] of delta.histogram) if (binUpperBound(bin) <= boundUs) count += binCount;
  return count;
}

function sum(counts: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}

export class CollectorCounters {
  private readonly series = new Map<string, SeriesCounters>();
  private lastGridMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly collectorId: string,
    /** Latency thresholds (µs) the SLOs of a kind and service declare, read at use (a reload changes them). */
    private readonly thresholdsOf: (key: SeriesKey) => readonly number[],
  ) {}

  /** How many series keys are kept (live or stale). */
  get size(): number {
    return this.series.size;
  }

  /** Adds a committed batch's counts at `nowMs` (arrival time: the observations' own times are not used). */
  add(batch: BucketBatch, nowMs: number): void {
    for (const delta of batch.series.values()) {
      // The rules a minute counted (validKey is id × 2): a combined batch's series carry no rule list.
      const ruleIds = new Set(delta.rules.map((rule) => rule.id));
      for (const minute of delta.minutes.values())
        for (const key of minute.rules.keys()) ruleIds.add(Math.floor(key / 2));
      const counters = this.countersOf(delta.key, ruleIds);
      counters.lastIncreasedMs = nowMs;
      for (const minute of delta.minutes.values()) this.addDelta(counters, minute);
    }
    // Rows (an import's minute table) count no rules.
    for (const rows of batch.rows)
      for (const series of rows.series) {
        const counters = this.countersOf(series.key, new Set());
        counters.lastIncreasedMs = nowMs;
        rows.buckets(series.index, 'minute', (_minute, sums) => this.addDelta(counters, sums.delta()));
      }
  }

  private addDelta(counters: SeriesCounters, delta: BucketDelta): void {
    counters.requests.value += delta.total;
    counters.errors.value += delta.errors;
    const withDuration = sum(delta.histogram);
    counters.durationCount.value += withDuration;
    counters.infBucket.value += withDuration;
    for (const [boundUs, counter] of counters.buckets) counter.value += atOrUnder(delta, boundUs);
    for (const [key, counter] of counters.rules) counter.value += delta.rules.get(key) ?? 0;
  }

  /**
   * Every live series' samples for a write at `gridMs`. A counter not written at the grid point before gets a
   * sample there first (0 for a new one, its last value after a stale spell or a missed flush), so `increase()`
   * over windows on the grid counts every increment. A grid time not after the last gives nothing.
   */
  *samplesAt(gridMs: number, intervalMs: number): Generator<TimeSeries> {
    if (gridMs <= this.lastGridMs) return;
    this.lastGridMs = gridMs;
    // Lazily, so a flush can hand the loop back between parts; a series made meanwhile is written too.
    for (const counters of this.series.values()) {
      if (gridMs - counters.lastIncreasedMs > STALE_AFTER_MS) continue;
      for (const counter of allCounters(counters)) yield sampled(counter, gridMs, intervalMs);
    }
  }

  private countersOf(key: SeriesKey, ruleIds: Iterable<number>): SeriesCounters {
    const id = seriesKeyString(key);
    let counters = this.series.get(id);
    if (!counters) {
      const counter = (name: string, extra: Record<string, string> = {}) =>
        newCounter({ ...this.keyLabels(key), ...extra, __name__: name });
      counters = {
        lastIncreasedMs: 0,
        requests: counter(COLLECTOR_METRICS.requests),
        errors: counter(COLLECTOR_METRICS.errors),
        durationCount: counter(COLLECTOR_METRICS.durationCount),
        buckets: new Map(),
        infBucket: counter(COLLECTOR_METRICS.durationBucket, { le: '+Inf' }),
        rules: new Map(),
      };
      this.series.set(id, counters);
    }
    // Bounds and rules follow the definitions in force: a reload adds counters (starting at 0), never drops one.
    for (const boundUs of [...this.thresholdsOf(key), ...DURATION_LADDER_US]) {
      if (!counters.buckets.has(boundUs))
        counters.buckets.set(
          boundUs,
          newCounter({
            ...this.keyLabels(key),
            le: leText(boundUs),
            __name__: COLLECTOR_METRICS.durationBucket,
          }),
        );
    }
    for (const ruleId of ruleIds) {
      for (const [key_, verdict] of [
        [validKey(ruleId), 'valid'],
        [badKey(ruleId), 'bad'],
      ] as const) {
        if (!counters.rules.has(key_))
          counters.rules.set(
            key_,
            newCounter({
              ...this.keyLabels(key),
              rule: String(ruleId),
              verdict,
              __name__: COLLECTOR_METRICS.ruleEvents,
            }),
          );
      }
    }
    return counters;
  }

  private keyLabels(key: SeriesKey): Record<string, string> {
    return {
      kind: key.kind,
      source: key.source,
      service: key.service,
      operation: key.operation,
      method: key.method,
      collector: this.collectorId,
    };
  }
}

function newCounter(labels: Record<string, string>): Counter {
  const sorted = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
  return {
    labels: sorted,
    encodedLabels: encodeLabels(sorted),
    value: 0,
    writtenValue: 0,
    writtenAtMs: undefined,
  };
}

function* allCounters(counters: SeriesCounters): Iterable<Counter> {
  yield counters.requests;
  yield counters.errors;
  yield counters.durationCount;
  yield* counters.buckets.values();
  yield counters.infBucket;
  yield* counters.rules.values();
}

function sampled(counter: Counter, gridMs: number, intervalMs: number): TimeSeries {
  const samples: Sample[] = [];
  const before = gridMs - intervalMs;
  if (counter.writtenAtMs === undefined || counter.writtenAtMs < before)
    samples.push({ value: counter.writtenValue, timestamp: before });
  samples.push({ value: counter.value, timestamp: gridMs });
  counter.writtenValue = counter.value;
  counter.writtenAtMs = gridMs;
  return { labels: counter.labels, encodedLabels: counter.encodedLabels, samples };
}
