import { addCounts, addExactCounts, binOf, type SparseCounts } from '../store/histogram.js';
import type { Observation, SourceKind } from './observation.js';

/** Sums of one series over one minute, as a batch adds them. */
export interface BucketDelta {
  total: number;
  errors: number;
  histogram: SparseCounts;
  thresholds: SparseCounts;
}

export interface SeriesKey {
  kind: SourceKind;
  source: string;
  service: string;
  operation: string;
  method: string;
}

export interface SeriesDelta {
  key: SeriesKey;
  lastSeenMs: number;
  firstSeenMs: number;
  minutes: Map<number, BucketDelta>;
}

export function seriesKeyString(key: SeriesKey): string {
  return `${key.kind}\u0000${key.source}\u0000${key.service}\u0000${key.operation}\u0000${key.method}`;
}

/** A new bucket holds a zero count for every declared threshold, so "none at or under it" stays exact. */
export function emptyDelta(thresholdsUs: readonly number[] = []): BucketDelta {
  return { total: 0, errors: 0, histogram: new Map(), thresholds: new Map(thresholdsUs.map((t) => [t, 0])) };
}

/**
 * Folds observations into per-series, per-minute deltas before they reach the store, so a batch of 10,000
 * log lines costs a handful of row writes. `thresholdsUs` are the latency thresholds loaded SLOs declare:
 * each gets an exact count of requests at or under it.
 */
export class BatchAggregate {
  readonly series = new Map<string, SeriesDelta>();
  observations = 0;
  private readonly thresholdsUs: readonly number[];

  constructor(thresholdsUs: Iterable<number> = []) {
    this.thresholdsUs = [...new Set(thresholdsUs)].sort((a, b) => a - b);
  }

  add(observation: Observation): void {
    const keyString = seriesKeyString(observation);
    let series = this.series.get(keyString);
    if (!series) {
      const { kind, source, service, operation, method } = observation;
      series = {
        key: { kind, source, service, operation, method },
        firstSeenMs: observation.timeMs,
        lastSeenMs: observation.timeMs,
        minutes: new Map(),
      };
      this.series.set(keyString, series);
    }
    if (observation.timeMs > series.lastSeenMs) series.lastSeenMs = observation.timeMs;
    if (observation.timeMs < series.firstSeenMs) series.firstSeenMs = observation.timeMs;
    const minute = Math.floor(observation.timeMs / 60_000);
    let bucket = series.minutes.get(minute);
    if (!bucket) {
      bucket = emptyDelta(this.thresholdsUs);
      series.minutes.set(minute, bucket);
    }
    bucket.total += 1;
    if (observation.error) bucket.errors += 1;
    const duration = observation.durationUs;
    if (duration !== undefined) {
      const bin = binOf(duration);
      bucket.histogram.set(bin, (bucket.histogram.get(bin) ?? 0) + 1);
      for (const threshold of this.thresholdsUs) {
        if (duration <= threshold)
          bucket.thresholds.set(threshold, (bucket.thresholds.get(threshold) ?? 0) + 1);
      }
    }
    this.observations += 1;
  }

  /** Moves another batch's sums into this one (group commit of concurrent requests). */
  merge(other: BatchAggregate): void {
    for (const [keyString, incoming] of other.series) {
      const series = this.series.get(keyString);
      if (!series) {
        this.series.set(keyString, incoming);
        continue;
      }
      series.lastSeenMs = Math.max(series.lastSeenMs, incoming.lastSeenMs);
      series.firstSeenMs = Math.min(series.firstSeenMs, incoming.firstSeenMs);
      for (const [minute, delta] of incoming.minutes) {
        const bucket = series.minutes.get(minute);
        if (bucket) addDelta(bucket, delta);
        else series.minutes.set(minute, delta);
      }
    }
    this.observations += other.observations;
  }
}

export function addDelta(into: BucketDelta, from: BucketDelta): void {
  into.total += from.total;
  into.errors += from.errors;
  addCounts(into.histogram, from.histogram);
  addExactCounts(into.thresholds, from.thresholds);
}
