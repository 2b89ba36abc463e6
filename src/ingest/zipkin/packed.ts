import type { SparseCounts } from '../../model/histogram.js';
import type { SourceKind } from '../../model/observation.js';
import type { SeriesDelta } from '../../model/series.js';
import { addDelta, type BatchAggregate } from '../aggregate.js';

/**
 * A batch's per-series sums as a parsing thread sends them back: the series keys as a flat list of strings and
 * every number in one Float64Array, whose memory moves to the event loop (transferred, not copied). The same sums
 * as Maps of Maps, structured-cloned, cost the event loop 3.4 times as much to take apart and merge (0.055 against
 * 0.016 ms for a batch of 500 spans; docs/benchmarks.md, spans).
 *
 * `sums` holds, per series in `keys` order: first seen, last seen, minute count; per minute: minute, total,
 * errors, then the histogram, threshold and rule counts, each as a count of pairs followed by (key, value) pairs.
 */
export interface PackedSeries {
  /** Five strings per series: kind, source, service, operation, method. */
  keys: string[];
  sums: Float64Array<ArrayBuffer>;
  observations: number;
}

const KEY_FIELDS = 5;
const SERIES_HEAD = 3;
/** Minute, total, errors and the three pair counts. */
const MINUTE_HEAD = 6;

function pairsLength(counts: SparseCounts): number {
  return counts.size * 2;
}

export function packSeries(series: ReadonlyMap<string, SeriesDelta>, observations: number): PackedSeries {
  const keys: string[] = [];
  let length = 0;
  for (const { key, minutes } of series.values()) {
    keys.push(key.kind, key.source, key.service, key.operation, key.method);
    length += SERIES_HEAD;
    for (const delta of minutes.values()) {
      length += MINUTE_HEAD;
      length += pairsLength(delta.histogram) + pairsLength(delta.thresholds) + pairsLength(delta.rules);
    }
  }
  const sums = new Float64Array(length);
  let at = 0;
  const putPairs = (counts: SparseCounts) => {
    sums[at++] = counts.size;
    for (const [key, value] of counts) {
      sums[at++] = key;
      sums[at++] = value;
    }
  };
  for (const { firstSeenMs, lastSeenMs, minutes } of series.values()) {
    sums[at++] = firstSeenMs;
    sums[at++] = lastSeenMs;
    sums[at++] = minutes.size;
    for (const [minute, delta] of minutes) {
      sums[at++] = minute;
      sums[at++] = delta.total;
      sums[at++] = delta.errors;
      putPairs(delta.histogram);
      putPairs(delta.thresholds);
      putPairs(delta.rules);
    }
  }
  return { keys, sums, observations };
}

/**
 * Adds packed sums to `batch`, as `batch.mergeSeries` adds unpacked ones (the series labels were checked
 * where the sums were made; a key the batch folds is counted under the folded series).
 */
export function mergePacked(batch: BatchAggregate, { keys, sums, observations }: PackedSeries): void {
  let at = 0;
  const takePairs = () => {
    const counts: SparseCounts = new Map();
    for (let pairs = sums[at++]!; pairs > 0; pairs--) {
      counts.set(sums[at]!, sums[at + 1]!);
      at += 2;
    }
    return counts;
  };
  for (let k = 0; k < keys.length; k += KEY_FIELDS) {
    const series = batch.seriesFor(
      keys[k] as SourceKind,
      keys[k + 1]!,
      keys[k + 2]!,
      keys[k + 3]!,
      keys[k + 4]!,
    );
    series.firstSeenMs = Math.min(series.firstSeenMs, sums[at++]!);
    series.lastSeenMs = Math.max(series.lastSeenMs, sums[at++]!);
    for (let minutes = sums[at++]!; minutes > 0; minutes--) {
      const minute = sums[at++]!;
      const total = sums[at++]!;
      const errors = sums[at++]!;
      const delta = { total, errors, histogram: takePairs(), thresholds: takePairs(), rules: takePairs() };
      const bucket = series.minutes.get(minute);
      if (bucket) addDelta(bucket, delta);
      else series.minutes.set(minute, delta);
    }
  }
  batch.observations += observations;
}
