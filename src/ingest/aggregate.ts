import { badKey, judgeEvent, validKey } from '../definitions/eventRules.js';
import type { CountingRule } from '../model/eventRules.js';
import { addCounts, addExactCounts, binOf, type SparseCounts } from '../model/histogram.js';
import type { Observation, SourceKind } from '../model/observation.js';
import {
  type BucketBatch,
  type BucketDelta,
  type BucketRows,
  type SeriesDelta,
  type SeriesKey,
  seriesKeyString,
} from '../model/series.js';
import { labelValue, methodLabel } from './labels.js';
import { ANY_TIME, inRange, TimeOutOfRange, type TimeRange } from './timeRange.js';

type NestedIndex = Map<string, Map<string, Map<string, Map<string, Map<string, SeriesDelta>>>>>;

/** The map under `key`, created empty on first use. */
function child<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let found = map.get(key);
  if (!found) {
    found = new Map();
    map.set(key, found);
  }
  return found;
}

/**
 * A new bucket holds a zero count for every declared threshold and counting rule, so "none at or under it"
 * and "none bad" stay exact.
 */
export function emptyDelta(
  thresholdsUs: readonly number[] = [],
  rules: readonly CountingRule[] = [],
): BucketDelta {
  return {
    total: 0,
    errors: 0,
    histogram: new Map(),
    thresholds: new Map(thresholdsUs.map((t) => [t, 0])),
    rules: new Map(rules.flatMap((rule) => [[validKey(rule.id), 0] as const, [badKey(rule.id), 0] as const])),
  };
}

const NO_RULES: readonly CountingRule[] = [];

/**
 * Folds observations into per-series, per-minute deltas before they reach the store, so a batch of 10,000
 * log lines costs a handful of row writes. `thresholdsUs` are the latency thresholds loaded SLOs declare:
 * each gets an exact count of requests at or under it.
 */
export class BatchAggregate implements BucketBatch {
  readonly series = new Map<string, SeriesDelta>();
  /** Sums counted outside `series`, written by the store row by row (see addRows). */
  readonly rows: BucketRows[] = [];
  observations = 0;
  /** Writes that ride in the commit transaction (see alsoInTransaction). */
  readonly inTransaction: Array<() => void> = [];
  /** Latency thresholds (µs) loaded SLOs declare, ascending. */
  readonly thresholdsUs: readonly number[];
  /** Good/bad/valid rules loaded SLOs declare, each counted for the series of its kind and service. */
  readonly countingRules: readonly CountingRule[];
  private readonly rulesByService = new Map<string, CountingRule[]>();
  private readonly index: NestedIndex = new Map();

  /**
   * `accepted` is the time range of this batch's observations (see timeRange.ts): counting a time outside it
   * throws TimeOutOfRange, so nothing out of range reaches the store whichever source it came from.
   */
  constructor(
    thresholdsUs: Iterable<number> = [],
    readonly accepted: TimeRange = ANY_TIME,
    countingRules: readonly CountingRule[] = [],
  ) {
    this.thresholdsUs = [...new Set(thresholdsUs)].sort((a, b) => a - b);
    this.countingRules = countingRules;
    for (const rule of countingRules) {
      const key = `${rule.kind}\u0000${rule.service}`;
      this.rulesByService.set(key, [...(this.rulesByService.get(key) ?? []), rule]);
    }
  }

  /** Throws TimeOutOfRange unless `timeMs` is in the accepted range; callers check before making a series. */
  admit(timeMs: number): void {
    if (!inRange(timeMs, this.accepted)) throw new TimeOutOfRange(timeMs, this.accepted);
  }

  private minuteOf(series: SeriesDelta, timeMs: number): number {
    this.admit(timeMs);
    if (timeMs > series.lastSeenMs) series.lastSeenMs = timeMs;
    if (timeMs < series.firstSeenMs) series.firstSeenMs = timeMs;
    return Math.floor(timeMs / 60_000);
  }

  add(observation: Observation): void {
    const { kind, source, service, operation, method } = observation;
    this.admit(observation.timeMs);
    this.count(
      this.seriesFor(kind, source, service, operation, method),
      observation.timeMs,
      observation.error,
      observation.durationUs,
      observation.status,
      observation.userAgent,
    );
  }

  /**
   * The series of a key, created on first use. Looked up through nested maps of strings the caller already
   * holds (their hashes are cached), so the per-line path of log ingest builds no key string.
   */
  seriesFor(
    kind: SourceKind,
    source: string,
    service: string,
    operation: string,
    method: string,
  ): SeriesDelta {
    const byMethod = child(child(child(child(this.index, kind), source), service), operation);
    let series = byMethod.get(method);
    if (!series) {
      series = this.newSeries(kind, source, service, operation, method);
      byMethod.set(method, series);
    }
    return series;
  }

  /**
   * The series a key not yet in the batch is counted under: its labels checked once here rather than per
   * line (throws LabelRejected). A folded key (method `OTHER`, an over-long name) shares the folded series.
   */
  private newSeries(
    kind: SourceKind,
    source: string,
    service: string,
    operation: string,
    method: string,
  ): SeriesDelta {
    const key: SeriesKey = {
      kind,
      source: labelValue('source', source),
      service: labelValue('service', service),
      operation: labelValue('operation', operation),
      method: methodLabel(method),
    };
    if (
      key.source !== source ||
      key.service !== service ||
      key.operation !== operation ||
      key.method !== method
    )
      return this.seriesFor(kind, key.source, key.service, key.operation, key.method);
    const series = {
      key,
      firstSeenMs: Number.POSITIVE_INFINITY,
      lastSeenMs: 0,
      minutes: new Map(),
      rules: this.rulesByService.get(`${kind}\u0000${service}`) ?? NO_RULES,
    };
    this.series.set(seriesKeyString(key), series);
    return series;
  }

  /** Counts one request into a series; status and user agent feed the series' counting rules. */
  count(
    series: SeriesDelta,
    timeMs: number,
    error: boolean,
    durationUs: number | undefined,
    status?: number,
    userAgent?: string,
  ): void {
    const minute = this.minuteOf(series, timeMs);
    let bucket = series.minutes.get(minute);
    if (!bucket) {
      bucket = emptyDelta(this.thresholdsUs, series.rules);
      series.minutes.set(minute, bucket);
    }
    bucket.total += 1;
    if (error) bucket.errors += 1;
    for (const rule of series.rules) {
      const { operation, method } = series.key;
      const verdict = judgeEvent(rule.rules, { operation, method, error, status, userAgent });
      if (verdict === 'excluded') continue;
      increment(bucket.rules, validKey(rule.id));
      if (verdict === 'bad') increment(bucket.rules, badKey(rule.id));
    }
    if (durationUs !== undefined) {
      const bin = binOf(durationUs);
      bucket.histogram.set(bin, (bucket.histogram.get(bin) ?? 0) + 1);
      for (const threshold of this.thresholdsUs) {
        if (durationUs <= threshold)
          bucket.thresholds.set(threshold, (bucket.thresholds.get(threshold) ?? 0) + 1);
      }
    }
    this.observations += 1;
  }

  /** Adds already-summed counts (a scrape's increase) to a series' minute. */
  addBucket(series: SeriesDelta, timeMs: number, delta: BucketDelta): void {
    const minute = this.minuteOf(series, timeMs);
    const bucket = series.minutes.get(minute);
    if (bucket) addDelta(bucket, delta);
    else series.minutes.set(minute, delta);
    this.observations += delta.total;
  }

  /**
   * A batch with this one's time range, observation count and transaction writes but no series and no rows:
   * what `fold` refills.
   */
  withoutSeries(): BatchAggregate {
    const empty = new BatchAggregate(this.thresholdsUs, this.accepted);
    empty.observations = this.observations;
    empty.inTransaction.push(...this.inTransaction);
    return empty;
  }

  /**
   * One batch of the sums of several (group commit of concurrent requests); they stay as they were, so each can
   * still be committed on its own.
   */
  static combine(batches: readonly BatchAggregate[]): BatchAggregate {
    const combined = new BatchAggregate(batches[0]?.thresholdsUs);
    for (const batch of batches) {
      combined.mergeSeries(batch.series, batch.observations);
      combined.rows.push(...batch.rows);
      combined.inTransaction.push(...batch.inTransaction);
    }
    return combined;
  }

  /**
   * Adds series sums made elsewhere (another batch, a parsing thread of an import). With `adopt` their buckets
   * are taken as they are rather than copied: sums made for this merge alone, which nothing else holds.
   */
  mergeSeries(incomingSeries: Map<string, SeriesDelta>, observations: number, adopt = false): void {
    for (const incoming of incomingSeries.values()) {
      const { kind, source, service, operation, method } = incoming.key;
      const series = this.seriesFor(kind, source, service, operation, method);
      series.lastSeenMs = Math.max(series.lastSeenMs, incoming.lastSeenMs);
      series.firstSeenMs = Math.min(series.firstSeenMs, incoming.firstSeenMs);
      for (const [minute, delta] of incoming.minutes) {
        const bucket = series.minutes.get(minute);
        if (bucket) addDelta(bucket, delta);
        else series.minutes.set(minute, adopt ? delta : copyDelta(delta));
      }
    }
    this.observations += observations;
  }

  /**
   * Adds sums held in rows (an import's minute table), which must stay as they are until this batch is
   * committed or dropped.
   */
  addRows(rows: BucketRows, observations: number): void {
    this.rows.push(rows);
    this.observations += observations;
  }

  /**
   * Runs `write` inside the transaction that commits this batch, so state derived from the same input (a
   * tailed file's offset) is committed with its buckets or not at all.
   */
  alsoInTransaction(write: () => void): void {
    this.inTransaction.push(write);
  }

  /** Whether committing this batch would write anything. */
  get isEmpty(): boolean {
    return (
      this.observations === 0 &&
      this.series.size === 0 &&
      this.rows.length === 0 &&
      this.inTransaction.length === 0
    );
  }
}

function copyDelta(delta: BucketDelta): BucketDelta {
  return { ...delta, histogram: new Map(delta.histogram), thresholds: new Map(delta.thresholds) };
}

export function addDelta(into: BucketDelta, from: BucketDelta): void {
  into.total += from.total;
  into.errors += from.errors;
  addCounts(into.histogram, from.histogram);
  addExactCounts(into.thresholds, from.thresholds);
  addExactCounts(into.rules, from.rules);
}

const increment = (counts: SparseCounts, key: number) => counts.set(key, (counts.get(key) ?? 0) + 1);
