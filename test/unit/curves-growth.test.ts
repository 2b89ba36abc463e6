import { describe, expect, it } from 'vitest';
import { growthSteps } from '../../bench/curvesMath.js';

describe('cost curve growth', () => {
  it('gives each step its cost ratio and the exponent relating it to the size ratio', () => {
    const steps = growthSteps([
      { size: 1_000, cost: 40 },
      { size: 100, cost: 10 },
      { size: 10_000, cost: 4_000 },
    ]);
    expect(steps.map((s) => [s.fromSize, s.toSize])).toEqual([
      [100, 1_000],
      [1_000, 10_000],
    ]);
    expect(steps[0]!.costRatio).toBe(4);
    expect(steps[0]!.exponent).toBeCloseTo(Math.log10(4), 12);
    expect(steps[0]!.linearOrBetter).toBe(true);
    // 100× the cost for 10× the size: quadratic.
    expect(steps[1]!.costRatio).toBe(100);
    expect(steps[1]!.exponent).toBeCloseTo(2, 12);
    expect(steps[1]!.linearOrBetter).toBe(false);
  });

  it('takes linear as linear, a little noise within the tolerance, and flat as flat', () => {
    expect(
      growthSteps([
        { size: 1, cost: 3 },
        { size: 10, cost: 30 },
      ])[0]!.exponent,
    ).toBeCloseTo(1, 12);
    const noisy = growthSteps(
      [
        { size: 10, cost: 1 },
        { size: 100, cost: 13 },
      ],
      0.15,
    )[0]!;
    expect(noisy.exponent).toBeGreaterThan(1);
    expect(noisy.linearOrBetter).toBe(true);
    expect(
      growthSteps(
        [
          { size: 10, cost: 1 },
          { size: 100, cost: 13 },
        ],
        0.1,
      )[0]!.linearOrBetter,
    ).toBe(false);
    expect(
      growthSteps([
        { size: 1, cost: 5 },
        { size: 100, cost: 5 },
      ])[0]!.exponent,
    ).toBe(0);
  });

  it('reads a cost below the clock resolution as the floor and refuses sizes it cannot relate', () => {
    const fromNothing = growthSteps(
      [
        { size: 1, cost: 0 },
        { size: 10, cost: 0.5 },
      ],
      0.15,
      0.05,
    )[0]!;
    expect(fromNothing.costRatio).toBe(10);
    expect(Number.isFinite(fromNothing.exponent)).toBe(true);
    expect(() =>
      growthSteps([
        { size: 5, cost: 1 },
        { size: 5, cost: 2 },
      ]),
    ).toThrow(/distinct/);
    expect(() =>
      growthSteps([
        { size: 0, cost: 1 },
        { size: 5, cost: 2 },
      ]),
    ).toThrow(/positive/);
  });
});
