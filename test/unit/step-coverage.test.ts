import { describe, expect, it } from 'vitest';
import { stepCoverage } from '../../src/evaluate/stepCoverage.js';

const MINUTE = 60_000;
const T = Date.UTC(2026, 11, 3, 12, 0); // a minute (and hour) boundary

describe('stepCoverage', () => {
  it('is 1 for a step over finished minutes, aligned or not', () => {
    expect(stepCoverage(T, MINUTE, T + 10 * MINUTE)).toBe(1);
    expect(stepCoverage(T + 20_000, 5 * MINUTE, T + 10 * MINUTE)).toBe(1);
    expect(stepCoverage(T, 60 * MINUTE, T)).toBe(1);
  });

  it('is the elapsed share of a step ending in the minute that is not over', () => {
    expect(stepCoverage(T + 20_000, MINUTE, T + 20_000)).toBeCloseTo(20 / 60, 9);
    // Five-minute step ending 20 s into a minute: four whole minutes and 20 s of the fifth.
    expect(stepCoverage(T + 20_000, 5 * MINUTE, T + 20_000)).toBeCloseTo(260 / 300, 9);
  });

  it('is 0 for a step that lies wholly after now, and never above 1', () => {
    expect(stepCoverage(T + 10 * MINUTE, MINUTE, T)).toBe(0);
    expect(stepCoverage(T + 30_000, MINUTE, T + 90 * MINUTE)).toBeLessThanOrEqual(1);
  });
});
