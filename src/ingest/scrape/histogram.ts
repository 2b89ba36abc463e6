import { binLowerBound, binOf, binUpperBound, type SparseCounts } from '../../model/histogram.js';

/** One LB histogram bucket's increase: requests in (previous bound, upperUs]. */
export interface LbBucket {
  upperUs: number;
  cumulative: number;
}

/**
 * Spreads LB histogram increases over sloguard's fixed bins. Requests in an LB bucket (lower, upper] are
 * shared among the bins that bucket overlaps in proportion to the overlap (whole requests, largest
 * remainder), so a threshold between two LB bounds is estimated by linear interpolation inside that LB
 * bucket. The +Inf bucket's requests go to the bin just above the last finite bound. `buckets` must be
 * sorted by bound.
 */
export function spreadOverBins(buckets: readonly LbBucket[]): SparseCounts {
  const bins: SparseCounts = new Map();
  let lower = 0;
  let below = 0;
  for (const { upperUs, cumulative } of buckets) {
    const count = Math.max(0, cumulative - below);
    below = Math.max(below, cumulative);
    if (count > 0) {
      if (!Number.isFinite(upperUs)) {
        const bin = binOf(lower) + 1;
        bins.set(bin, (bins.get(bin) ?? 0) + count);
      } else shareOut(bins, count, lower, upperUs);
    }
    lower = upperUs;
  }
  return bins;
}

function shareOut(bins: SparseCounts, count: number, lower: number, upper: number): void {
  const first = binOf(lower);
  const last = binOf(upper);
  const shares: Array<{ bin: number; exact: number; whole: number }> = [];
  for (let bin = first; bin <= last; bin++) {
    const overlap = Math.min(upper, binUpperBound(bin)) - Math.max(lower, binLowerBound(bin));
    const exact = upper === lower ? count : (count * Math.max(0, overlap)) / (upper - lower);
    shares.push({ bin, exact, whole: Math.floor(exact) });
  }
  let left = count - shares.reduce((sum, share) => sum + share.whole, 0);
  for (const share of [...shares].sort((a, b) => b.exact - b.whole - (a.exact - a.whole))) {
    if (left <= 0) break;
    share.whole += 1;
    left -= 1;
  }
  for (const { bin, whole } of shares) if (whole > 0) bins.set(bin, (bins.get(bin) ?? 0) + whole);
}

/** Exact "at or under" counts for the thresholds that fall on an LB bound; the others are left out. */
export function exactAtBounds(buckets: readonly LbBucket[], thresholdsUs: readonly number[]): SparseCounts {
  const exact: SparseCounts = new Map();
  for (const threshold of thresholdsUs) {
    const bucket = buckets.find((b) => b.upperUs === threshold);
    if (bucket) exact.set(threshold, bucket.cumulative);
  }
  return exact;
}

/** The LB bounds around a threshold that is not on one (for the log line saying it is interpolated). */
export function boundsAround(
  buckets: readonly LbBucket[],
  thresholdUs: number,
): [number, number] | undefined {
  let lower = 0;
  for (const { upperUs } of buckets) {
    if (upperUs === thresholdUs) return undefined;
    if (upperUs > thresholdUs) return [lower, upperUs];
    lower = upperUs;
  }
  return undefined;
}
