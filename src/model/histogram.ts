/**
 * Fixed exponential latency bounds shared by every bucket, so buckets of any series and any time merge
 * by adding counts. Bin 0 holds durations ≤ 100 µs; bin i holds (100·1.05^(i−1), 100·1.05^i] µs, so a
 * bin's width is 5% of its lower bound. The last bin takes everything above an hour.
 */
export const FIRST_BOUND_US = 100;
export const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
export const BIN_COUNT = Math.ceil(Math.log(3_600_000_000 / FIRST_BOUND_US) / LOG_GROWTH) + 2;

/** Upper bounds computed once: binOf runs for every logged request. */
const UPPER_BOUNDS = Float64Array.from({ length: BIN_COUNT }, (_, bin) =>
  bin >= BIN_COUNT - 1 ? Number.POSITIVE_INFINITY : FIRST_BOUND_US * GROWTH ** bin,
);

/** Upper bound of bin i in microseconds (Infinity for the overflow bin). */
export function binUpperBound(bin: number): number {
  return bin >= BIN_COUNT - 1 ? Number.POSITIVE_INFINITY : UPPER_BOUNDS[bin]!;
}

export function binLowerBound(bin: number): number {
  return bin === 0 ? 0 : binUpperBound(bin - 1);
}

/** The bin a duration falls in. Corrected for rounding so a duration exactly on a bound stays in its bin. */
export function binOf(durationUs: number): number {
  if (durationUs <= FIRST_BOUND_US) return 0;
  let bin = Math.ceil(Math.log(durationUs / FIRST_BOUND_US) / LOG_GROWTH);
  if (bin > 0 && durationUs <= binUpperBound(bin - 1)) bin -= 1;
  else if (durationUs > binUpperBound(bin)) bin += 1;
  return Math.min(bin, BIN_COUNT - 1);
}

/** Sparse counts: bin → count, or threshold (µs) → count. */
export type SparseCounts = Map<number, number>;

export function addCounts(into: SparseCounts, from: SparseCounts): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}

/**
 * Adds exact threshold counts. A threshold known on one side only (declared after that side was written)
 * is no longer exact for the sum, so it is dropped and readers fall back to the histogram.
 */
export function addExactCounts(into: SparseCounts, from: SparseCounts): void {
  for (const key of into.keys()) if (!from.has(key)) into.delete(key);
  for (const [key, count] of from) {
    const current = into.get(key);
    if (current !== undefined) into.set(key, current + count);
  }
}

/**
 * Varint pairs (key delta, count), keys ascending. A minute of one series touches a few dozen bins with
 * small counts, so most pairs take two or three bytes.
 */
export function encodeCounts(counts: SparseCounts): Buffer {
  const keys = sortedKeys(counts, false);
  const bytes = scratchFor(keys.length);
  let length = 0;
  let previous = 0;
  for (const key of keys) {
    length = putPair(bytes, length, key - previous, counts.get(key)!);
    previous = key;
  }
  return copied(bytes, length);
}

/**
 * encodeCounts of `keys` (ascending) whose counts lie at `counts[at + i]`: the same bytes, from a row of a
 * typed array (an import's MinuteTable) without a map.
 */
export function encodeCountsAt(keys: readonly number[], counts: ArrayLike<number>, at: number): Buffer {
  const bytes = scratchFor(keys.length);
  let length = 0;
  let previous = 0;
  for (let i = 0; i < keys.length; i++) {
    length = putPair(bytes, length, keys[i]! - previous, counts[at + i]!);
    previous = keys[i]!;
  }
  return copied(bytes, length);
}

const putPair = (bytes: Uint8Array, length: number, keyGap: number, count: number) =>
  writeVarint(bytes, writeVarint(bytes, length, keyGap), count);

export function decodeCounts(
  blob: Uint8Array | null | undefined,
  into: SparseCounts = new Map(),
): SparseCounts {
  if (!blob) return into;
  const reader = new VarintReader(blob);
  let key = 0;
  while (!reader.done()) {
    key += reader.next();
    const count = reader.next();
    into.set(key, (into.get(key) ?? 0) + count);
  }
  return into;
}

/** Reads varints of a stored blob; a blob cut short or a varint past 2^56 fails instead of reading on. */
class VarintReader {
  offset = 0;
  constructor(private readonly blob: Uint8Array) {}

  done(): boolean {
    return this.offset >= this.blob.length;
  }

  byte(): number {
    if (this.offset >= this.blob.length) throw new RangeError('stored counts end in the middle of a value');
    return this.blob[this.offset++]!;
  }

  next(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new RangeError('stored count longer than 8 bytes');
  }
}

/**
 * Latency histograms as stored (the `histogram` column): one byte for each non-zero bin in the two common
 * shapes, bins ascending, each bin's gap counted from the one before (the first from bin −1):
 *
 *   0ccccccc            the next bin (gap 1) holds c (1–127): an hour's histogram, dense with counts of tens
 *   10gggggc            gap 2–33, count 1–2: a minute's, a dozen requests spread over a hundred bins
 *   11gggggg count      gap 2–64 (gggggg < 63), count as a varint
 *   11111111 gap count  anything else, both as varints
 *
 * An hour of 900 requests takes ~115 bytes instead of ~220 (pairs of varints, encodeCounts); a minute of
 * 15 takes ~15 instead of ~28. Counts stay exact, so merging and every estimate are unchanged.
 */
export function encodeHistogram(histogram: SparseCounts): Buffer {
  const bins = sortedKeys(histogram, true);
  const bytes = scratchFor(bins.length);
  let length = 0;
  let previous = -1;
  for (const bin of bins) {
    length = putBin(bytes, length, bin - previous, histogram.get(bin)!);
    previous = bin;
  }
  return copied(bytes, length);
}

/**
 * encodeHistogram of the bins `from`..`to` whose counts lie at `counts[at + bin]` (zeros skipped): the same
 * bytes, from a row of a typed array (an import's MinuteTable) without a map; null when every count is zero.
 */
export function encodeHistogramAt(
  counts: ArrayLike<number>,
  at: number,
  from: number,
  to: number,
): Buffer | null {
  const bytes = scratchFor(to - from + 1);
  let length = 0;
  let previous = -1;
  for (let bin = from; bin <= to; bin++) {
    const count = counts[at + bin]!;
    if (count === 0) continue;
    length = putBin(bytes, length, bin - previous, count);
    previous = bin;
  }
  return length > 0 ? copied(bytes, length) : null;
}

/** Writes one non-zero bin, `gap` past the one before, in the shortest of the four shapes. */
function putBin(bytes: Uint8Array, at: number, gap: number, count: number): number {
  let length = at;
  if (gap === 1 && count < 128) bytes[length++] = count;
  else if (gap >= 2 && gap <= 33 && count <= 2) bytes[length++] = 0x80 | ((gap - 2) << 1) | (count - 1);
  else if (gap >= 2 && gap <= 64) {
    bytes[length++] = 0xc0 | (gap - 2);
    length = writeVarint(bytes, length, count);
  } else {
    bytes[length++] = 0xff;
    length = writeVarint(bytes, length, gap);
    length = writeVarint(bytes, length, count);
  }
  return length;
}

/**
 * The encoders' keys ascending, in one array reused from call to call (every stored row is encoded: a new
 * spread, filter and sort per row were garbage). Valid until the next call.
 */
const keysScratch: number[] = [];

function sortedKeys(counts: SparseCounts, positiveOnly: boolean): number[] {
  keysScratch.length = 0;
  let sorted = true;
  for (const [key, count] of counts) {
    if (positiveOnly && !(count > 0)) continue;
    if (keysScratch.length > 0 && key < keysScratch[keysScratch.length - 1]!) sorted = false;
    keysScratch.push(key);
  }
  if (!sorted) keysScratch.sort((a, b) => a - b);
  return keysScratch;
}

/** A varint takes at most 8 bytes (values below 2^56): a key or gap, a tag and a count take at most 17. */
const MAX_BYTES_PER_KEY = 17;
let bytesScratch = new Uint8Array(64 * MAX_BYTES_PER_KEY);

function scratchFor(keys: number): Uint8Array {
  if (bytesScratch.length < keys * MAX_BYTES_PER_KEY)
    bytesScratch = new Uint8Array(keys * MAX_BYTES_PER_KEY * 2);
  return bytesScratch;
}

/** The first `length` bytes as a Buffer of their own (small ones from Node's buffer pool). */
function copied(bytes: Uint8Array, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  out.set(bytes.subarray(0, length));
  return out;
}

/** Adds a stored histogram (encodeHistogram) into `into`; fails on a blob that is not one. */
export function decodeHistogram(
  blob: Uint8Array | null | undefined,
  into: SparseCounts = new Map(),
): SparseCounts {
  if (!blob) return into;
  const reader = new VarintReader(blob);
  let bin = -1;
  while (!reader.done()) {
    const tag = reader.byte();
    let count: number;
    if (tag < 0x80) {
      bin += 1;
      count = tag;
    } else if (tag < 0xc0) {
      bin += ((tag >> 1) & 0x1f) + 2;
      count = (tag & 1) + 1;
    } else if (tag < 0xff) {
      bin += (tag & 0x3f) + 2;
      count = reader.next();
    } else {
      bin += reader.next();
      count = reader.next();
    }
    if (bin >= BIN_COUNT)
      throw new RangeError(`stored histogram names bin ${bin}, past the last (${BIN_COUNT - 1})`);
    into.set(bin, (into.get(bin) ?? 0) + count);
  }
  return into;
}

// Arithmetic rather than bit operations: counts may pass 2^31. Answers the position after the varint.
function writeVarint(bytes: Uint8Array, at: number, value: number): number {
  let rest = value;
  let length = at;
  while (rest >= 128) {
    bytes[length++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  bytes[length++] = rest;
  return length;
}

/** Requests at or under a threshold estimated from a histogram, and how far off the estimate can be. */
export interface LatencyEstimate {
  good: number;
  errorBound: number;
}

/**
 * Counts bins wholly under the threshold and interpolates linearly inside the bin that straddles it; the
 * error bound is that bin's count (every request in it could fall on either side).
 */
export function estimateAtOrUnder(histogram: SparseCounts, thresholdUs: number): LatencyEstimate {
  const straddling = binOf(thresholdUs);
  let good = 0;
  let errorBound = 0;
  for (const [bin, count] of histogram) {
    if (bin < straddling) good += count;
    else if (bin === straddling) {
      const upper = binUpperBound(bin);
      if (thresholdUs >= upper) good += count;
      else {
        const lower = binLowerBound(bin);
        good += (count * (thresholdUs - lower)) / (upper - lower);
        errorBound += count;
      }
    }
  }
  return { good, errorBound };
}
