/**
 * How a cost grows along a curve (bench/curves.bench.ts): for each step, the ratio of the cost to the previous
 * point's, the ratio of the sizes, and the exponent that relates them (cost ∝ size^exponent over the step:
 * 0 flat, 1 linear, 2 quadratic). Pure.
 */

export interface CurveSample {
  /** The size along the curve (SLOs, series). */
  size: number;
  /** The cost measured there (ms, MB). */
  cost: number;
}

export interface GrowthStep {
  fromSize: number;
  toSize: number;
  sizeRatio: number;
  costRatio: number;
  /** log(costRatio) / log(sizeRatio). */
  exponent: number;
  /** Whether the step grew no faster than linearly, with `tolerance` added to the exponent for noise. */
  linearOrBetter: boolean;
}

/**
 * Steps between consecutive samples in order of size. A cost of 0 (below the clock's resolution) is taken as
 * `floor`, so a step from nothing measurable is not an infinite exponent. Samples of equal size are refused:
 * they have no exponent.
 */
export function growthSteps(
  samples: readonly CurveSample[],
  tolerance = 0.15,
  floor = Number.MIN_VALUE,
): GrowthStep[] {
  const sorted = [...samples].sort((a, b) => a.size - b.size);
  const steps: GrowthStep[] = [];
  for (let k = 1; k < sorted.length; k++) {
    const from = sorted[k - 1]!;
    const to = sorted[k]!;
    if (!(from.size > 0) || to.size === from.size)
      throw new Error(`sizes must be positive and distinct: ${from.size}, ${to.size}`);
    const sizeRatio = to.size / from.size;
    const costRatio = Math.max(to.cost, floor) / Math.max(from.cost, floor);
    const exponent = Math.log(costRatio) / Math.log(sizeRatio);
    steps.push({
      fromSize: from.size,
      toSize: to.size,
      sizeRatio,
      costRatio,
      exponent,
      linearOrBetter: exponent <= 1 + tolerance,
    });
  }
  return steps;
}
