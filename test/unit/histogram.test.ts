import { describe, expect, it } from 'vitest';
import {
  addExactCounts,
  BIN_COUNT,
  binLowerBound,
  binOf,
  binUpperBound,
  decodeCounts,
  encodeCounts,
  estimateAtOrUnder,
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
});
