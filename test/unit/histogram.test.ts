import { describe, expect, it } from 'vitest';
import {
  addCounts,
  addExactCounts,
  BIN_COUNT,
  binLowerBound,
  binOf,
  binUpperBound,
  decodeCounts,
  decodeHistogram,
  encodeCounts,
  encodeHistogram,
  estimateAtOrUnder,
  type SparseCounts,
} from '../../src/model/histogram.js';

describe('latency histogram', () => {
  it('has bins no wider than 5% of their lower bound', () => {
    for (let bin = 2; bin < BIN_COUNT - 1; bin++) {
      expect((binUpperBound(bin) - binLowerBound(bin)) / binLowerBound(bin)).toBeLessThanOrEqual(
        0.05 + 1e-12,
      );
    }
  });

  it('puts every duration in the bin whose bounds hold it, bounds included', () => {
    for (const us of [0, 1, 100, 101, 999, 1000, 123_456, 500_000, 500_001, 3_599_999_999]) {
      const bin = binOf(us);
      expect(us).toBeLessThanOrEqual(binUpperBound(bin));
      expect(us > binLowerBound(bin) || bin === 0).toBe(true);
    }
    for (let bin = 1; bin < 300; bin += 7) expect(binOf(binUpperBound(bin))).toBe(bin);
    expect(binOf(10 * 3_600_000_000)).toBe(BIN_COUNT - 1);
  });

  it('round-trips sparse counts, counts past 2^31 included', () => {
    const counts = new Map([
      [3, 1],
      [150, 4_000_000_000],
      [151, 7],
      [BIN_COUNT - 1, 2],
    ]);
    expect(decodeCounts(encodeCounts(counts))).toEqual(counts);
    expect(decodeCounts(null).size).toBe(0);
  });

  it('estimates counts under a threshold with an honest error bound', () => {
    const histogram = new Map<number, number>();
    const durations = [50, 1_000, 20_000, 400_000, 480_000, 520_000, 2_000_000];
    for (const us of durations) histogram.set(binOf(us), (histogram.get(binOf(us)) ?? 0) + 1);
    const threshold = 500_000;
    const exact = durations.filter((us) => us <= threshold).length;
    const { good, errorBound } = estimateAtOrUnder(histogram, threshold);
    expect(Math.abs(good - exact)).toBeLessThanOrEqual(errorBound);
    // A threshold exactly on a bin bound is exact.
    const onBound = binUpperBound(binOf(480_000));
    expect(estimateAtOrUnder(histogram, onBound).errorBound).toBe(0);
  });

  it('drops a threshold count known on one side only', () => {
    const into = new Map([
      [500_000, 3],
      [800_000, 4],
    ]);
    addExactCounts(into, new Map([[500_000, 2]]));
    expect(into).toEqual(new Map([[500_000, 5]]));
  });

  describe('stored encoding', () => {
    /** A seeded histogram of `requests` nginx-like latencies ($request_time in ms, random()·random()·2 s). */
    function drawn(requests: number, seed: number): SparseCounts {
      let state = seed;
      const histogram: SparseCounts = new Map();
      for (let r = 0; r < requests; r++) {
        state = (state * 1103515245 + 12345) % 2147483648;
        const a = state / 2147483648;
        state = (state * 1103515245 + 12345) % 2147483648;
        const bin = binOf(Math.round(a * (state / 2147483648) * 2000) * 1000);
        histogram.set(bin, (histogram.get(bin) ?? 0) + 1);
      }
      return histogram;
    }

    it('round-trips every shape: neighbours, gaps of every width, small and huge counts', () => {
      const counts = new Map([
        [0, 1],
        [1, 127],
        [2, 128],
        [4, 1],
        [35, 2],
        [37, 3],
        [101, 1],
        [102, 4_000_000_000],
        [170, 2 ** 53 - 1],
        [BIN_COUNT - 1, 2],
      ]);
      expect(decodeHistogram(encodeHistogram(counts))).toEqual(counts);
      for (let gap = 1; gap <= 70; gap++)
        for (const count of [1, 2, 3, 127, 128, 300]) {
          const one = new Map([
            [5, 1],
            [5 + gap, count],
          ]);
          expect(decodeHistogram(encodeHistogram(one))).toEqual(one);
        }
      expect(decodeHistogram(null).size).toBe(0);
      expect(encodeHistogram(new Map()).length).toBe(0);
      expect(decodeHistogram(encodeHistogram(new Map([[7, 0]]))).size).toBe(0);
    });

    it('writes the documented bytes, bins ascending whatever order the map holds them in', () => {
      // Bin 100 first, bins 0 and 1 after it, a zero count in between: the stored bytes do not depend on it.
      const counts = new Map([
        [100, 200],
        [4, 1],
        [9, 0],
        [0, 3],
        [1, 5],
      ]);
      expect([...encodeHistogram(counts)]).toEqual([0x03, 0x05, 0x82, 0xff, 0x60, 0xc8, 0x01]);
      // Pairs of varints (key delta, count), keys ascending; a zero count is kept.
      expect([
        ...encodeCounts(
          new Map([
            [300, 2],
            [100, 0],
            [2 ** 40, 129],
          ]),
        ),
      ]).toEqual([0x64, 0x00, 0xc8, 0x01, 0x02, 0xd4, 0xfd, 0xff, 0xff, 0xff, 0x1f, 0x81, 0x01]);
      // A histogram longer than the encoders' first scratch (64 keys) round-trips too.
      const wide = new Map(
        Array.from({ length: BIN_COUNT }, (_, bin) => [BIN_COUNT - 1 - bin, 1 + bin * 1000]),
      );
      expect(decodeHistogram(encodeHistogram(wide))).toEqual(wide);
      expect(decodeCounts(encodeCounts(wide))).toEqual(wide);
    });

    it('takes about a byte per non-zero bin for a minute and for an hour, half of the pairs of varints', () => {
      const minute = drawn(15, 7);
      const hour = drawn(900, 11);
      expect(encodeHistogram(minute).length).toBeLessThanOrEqual(minute.size + 3);
      expect(encodeHistogram(hour).length).toBeLessThanOrEqual(hour.size + 12);
      expect(encodeHistogram(hour).length).toBeLessThan(0.6 * encodeCounts(hour).length);
      expect(decodeHistogram(encodeHistogram(hour))).toEqual(hour);
    });

    it('merges: decoding into a histogram adds, and the sum re-encodes to the same counts', () => {
      const a = drawn(15, 1);
      const b = drawn(15, 2);
      const sum = decodeHistogram(encodeHistogram(b), decodeHistogram(encodeHistogram(a)));
      const expected = new Map(a);
      addCounts(expected, b);
      expect(sum).toEqual(expected);
      expect(decodeHistogram(encodeHistogram(sum))).toEqual(expected);
      let requests = 0;
      for (const count of sum.values()) requests += count;
      expect(requests).toBe(30);
    });

    it('refuses a blob cut short or naming a bin past the last, instead of reading on', () => {
      const blob = encodeHistogram(new Map([[200, 1_000_000]]));
      expect(() => decodeHistogram(blob.subarray(0, blob.length - 1))).toThrow(RangeError);
      expect(() => decodeHistogram(Buffer.from([0xff, 0x80]))).toThrow(RangeError);
      expect(() => decodeHistogram(Buffer.from([0xff, ...Array(9).fill(0xff)]))).toThrow(RangeError);
      // The escape form's gap and count as varints: the gap from bin −1 lands one past the last bin.
      const pastLast = Buffer.concat([Buffer.from([0xff]), encodeCounts(new Map([[BIN_COUNT + 1, 1]]))]);
      expect(() => decodeHistogram(pastLast)).toThrow(/past the last/);
      expect(() => decodeCounts(Buffer.from([0x05, 0x80]))).toThrow(RangeError);
    });
  });
});
