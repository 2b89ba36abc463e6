import type { LbBucket } from '../scrape/histogram.js';

/**
 * An HTTP server duration histogram data point as both readers (protobuf, OTLP/JSON) give it, and the pure
 * bucket arithmetic the receiver does on it: the increase between two cumulative points, and the buckets in
 * µs that the scrape path's histogram helpers (scrape/histogram.ts) spread over sloguard's bins.
 */

/** The stable semantic-convention metric (seconds) and the one older SDKs emit (milliseconds). */
export const STABLE_METRIC = 'http.server.request.duration';
export const OLD_METRIC = 'http.server.duration';

/** Explicit bounds (in the metric's unit) and the count of each bucket: counts has one more entry (+Inf). */
export interface ExplicitBuckets {
  kind: 'explicit';
  bounds: readonly number[];
  counts: readonly number[];
}

/**
 * Exponential buckets: bucket `offset + k` holds values in (base^(offset+k), base^(offset+k+1)], base =
 * 2^(2^-scale); values at or under zeroThreshold (and any negative ones: no duration is) in zeroCount.
 */
export interface ExponentialBuckets {
  kind: 'exponential';
  scale: number;
  zeroThreshold: number;
  zeroCount: number;
  offset: number;
  counts: readonly number[];
}

export type PointBuckets = ExplicitBuckets | ExponentialBuckets;

/** The attributes of a data point (and its resource) that the counting rules read. */
export const POINT_ATTRIBUTE_NAMES = [
  'http.response.status_code',
  'http.status_code',
  'http.request.method',
  'http.method',
  'http.route',
  'http.target',
  'error.type',
] as const;

/** One data point, read and checked. */
export interface HistogramPoint {
  /** Which exporter's counters these are: resource, scope, metric and start time (see metricStreams.ts). */
  producer: string;
  /** The producer and the point's attributes: one cumulative counter set. */
  stream: string;
  service: string;
  metric: typeof STABLE_METRIC | typeof OLD_METRIC;
  /** The point's attributes among POINT_ATTRIBUTE_NAMES, as text. */
  attributes: Record<string, string>;
  delta: boolean;
  startNs: bigint;
  timeNs: bigint;
  /** µs per unit of the bounds (1,000,000 for seconds). */
  microsPerUnit: number;
  buckets: PointBuckets;
}

/** Buckets a point may have at most (the SDKs use 16 explicit, or 160 exponential). */
export const MAX_BUCKETS = 1024;
/** Exponential histogram scales the data model allows. */
const MIN_SCALE = -10;
const MAX_SCALE = 20;

/** µs per unit for a metric's declared unit (UCUM), or the convention's unit when it declares none. */
export function microsPerUnit(unit: string, metric: string): number | undefined {
  if (unit === '') return metric === STABLE_METRIC ? 1_000_000 : 1000;
  return ({ s: 1_000_000, ms: 1000, us: 1, ns: 0.001 } as Record<string, number>)[unit];
}

const sum = (counts: readonly number[]) => counts.reduce((total, count) => total + count, 0);

/** Requests counted by a point's buckets. */
export const bucketTotal = (buckets: PointBuckets): number =>
  sum(buckets.counts) + (buckets.kind === 'exponential' ? buckets.zeroCount : 0);

/** Why a point's buckets cannot be read, or undefined when they can (`count` is the point's own count). */
export function bucketsProblem(buckets: PointBuckets, count: number): string | undefined {
  const { counts } = buckets;
  if (counts.length > MAX_BUCKETS) return `more than ${MAX_BUCKETS} buckets`;
  if (!counts.every(Number.isSafeInteger)) return 'bucket counts must be integers under 2^53';
  if (buckets.kind === 'explicit') {
    const { bounds } = buckets;
    if (counts.length === 0 && bounds.length === 0) return count === 0 ? undefined : 'no bucket counts';
    if (counts.length !== bounds.length + 1)
      return 'bucketCounts must have one more entry than explicitBounds';
    for (let i = 0; i < bounds.length; i++)
      if (!Number.isFinite(bounds[i]) || (i > 0 && bounds[i]! <= bounds[i - 1]!))
        return 'explicitBounds must be finite and ascending';
  } else {
    if (!Number.isInteger(buckets.scale) || buckets.scale < MIN_SCALE || buckets.scale > MAX_SCALE)
      return `scale must be an integer from ${MIN_SCALE} to ${MAX_SCALE}`;
    // sint32 on the wire; OTLP/JSON could send 1.5 or 1e300, which index no bucket.
    if (!Number.isInteger(buckets.offset) || buckets.offset < -(2 ** 31) || buckets.offset >= 2 ** 31)
      return 'offset must be a 32-bit integer';
    if (!Number.isFinite(buckets.zeroThreshold) || buckets.zeroThreshold < 0)
      return 'zeroThreshold must be a finite number ≥ 0';
    if (!Number.isSafeInteger(buckets.zeroCount)) return 'zeroCount must be an integer under 2^53';
  }
  if (bucketTotal(buckets) !== count) return `count ${count} is not the sum of the bucket counts`;
  return undefined;
}

const sameBounds = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((bound, i) => bound === b[i]);

/** Exponential counts by bucket index at a lower scale: `shift` scales down merge 2^shift buckets into one. */
function countsByIndex(buckets: ExponentialBuckets, shift: number): Map<number, number> {
  const byIndex = new Map<number, number>();
  buckets.counts.forEach((count, k) => {
    if (count === 0) return;
    const index = Math.floor((buckets.offset + k) / 2 ** shift);
    byIndex.set(index, (byIndex.get(index) ?? 0) + count);
  });
  return byIndex;
}

function subtractExponential(
  previous: ExponentialBuckets,
  current: ExponentialBuckets,
): ExponentialBuckets | 'lower' | undefined {
  // A cumulative stream's scale only goes down (its range grew); other changes cannot be compared.
  if (current.scale > previous.scale || current.zeroThreshold !== previous.zeroThreshold) return undefined;
  const before = countsByIndex(previous, previous.scale - current.scale);
  const counts = current.counts.map((count, k) => {
    const index = current.offset + k;
    const increase = count - (before.get(index) ?? 0);
    before.delete(index);
    return increase;
  });
  const zeroCount = current.zeroCount - previous.zeroCount;
  if (zeroCount < 0 || counts.some((count) => count < 0) || before.size > 0) return 'lower';
  return { ...current, zeroCount, counts };
}

/**
 * The increase from one cumulative point's buckets to the next: `lower` when any bucket went down (a counter
 * reset), undefined when the two cannot be compared (explicit bounds changed, an exponential scale went up).
 */
export function subtractBuckets(
  previous: PointBuckets,
  current: PointBuckets,
): PointBuckets | 'lower' | undefined {
  if (previous.kind === 'exponential' && current.kind === 'exponential')
    return subtractExponential(previous, current);
  if (previous.kind !== 'explicit' || current.kind !== 'explicit') return undefined;
  if (!sameBounds(previous.bounds, current.bounds)) return undefined;
  const counts = current.counts.map((count, i) => count - (previous.counts[i] ?? 0));
  return counts.some((count) => count < 0) ? 'lower' : { ...current, counts };
}

/** A bound in µs, kept to the nanosecond so a decimal bound (0.1 s) meets a threshold (100000 µs) exactly. */
const micros = (value: number, perUnit: number) => Math.round(value * perUnit * 1000) / 1000;

/** The buckets as the scrape path's LB histogram: upper bounds in µs, ascending, with cumulative counts. */
export function lbBuckets(buckets: PointBuckets, perUnit: number): LbBucket[] {
  const result: LbBucket[] = [];
  let cumulative = 0;
  const push = (upperUs: number, count: number) => {
    cumulative += count;
    result.push({ upperUs, cumulative });
  };
  if (buckets.kind === 'explicit') {
    buckets.bounds.forEach((bound, i) => {
      push(micros(bound, perUnit), buckets.counts[i]!);
    });
    push(Number.POSITIVE_INFINITY, buckets.counts[buckets.bounds.length] ?? 0);
    return result;
  }
  push(micros(buckets.zeroThreshold, perUnit), buckets.zeroCount);
  const { offset, scale } = buckets;
  buckets.counts.forEach((count, k) => {
    // base^(index + 1) = 2^((index + 1) · 2^-scale), the bucket's upper bound.
    const upper = micros(2 ** ((offset + k + 1) * 2 ** -scale), perUnit);
    // Bounds under the zero threshold hold nothing a duration can take; they would break the ascending order.
    const last = result[result.length - 1]!;
    if (upper > last.upperUs) push(upper, count);
    else {
      cumulative += count;
      last.cumulative = cumulative;
    }
  });
  return result;
}
