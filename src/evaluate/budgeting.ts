/**
 * Time-slice budgeting (which closed slices are judged, which are good, the budget in slices) and composite
 * SLIs. Pure: counts in, counts out; never NaN or Infinity. The store keeps the slices (store/slices.ts).
 */
import type { ErrorBudget, SliceSummary } from '../model/budget.js';
import type { CompositeComponent } from '../model/slo.js';
import type { EventCounts } from '../model/status.js';
import { allowedErrorRatio } from './math.js';

/** Good and valid events of each closed slice judged, oldest first. */
export interface SliceSeries {
  good: Float64Array;
  valid: Float64Array;
}

/**
 * The window's closed slices that could be judged, oldest first, and how many could not. The arrays may be
 * the store's own: read them before asking again.
 */
export interface ClosedSlices {
  good: Float64Array;
  valid: Float64Array;
  unjudged: number;
  /** Every closed slice from here on is judged (epoch ms): the window's first slice when none was left out. */
  judgedFromMs: number;
}

/** The slices of a window as far as they are known, from `base` (epoch minutes) on; NaN where nothing is. */
export interface HeldSlices {
  base: number;
  sliceMinutes: number;
  good: Float64Array;
  valid: Float64Array;
}

/** The judged slices of the first `count` held, and from when on none is missing. */
export function judgedSlices(held: HeldSlices, count: number): ClosedSlices {
  let missing = 0;
  let lastMissing = -1;
  for (let index = 0; index < count; index++) {
    if (!Number.isNaN(held.good[index]!)) continue;
    missing += 1;
    lastMissing = index;
  }
  const judgedFromMs = (held.base + (lastMissing + 1) * held.sliceMinutes) * 60_000;
  // Usually every slice is judged: the held arrays serve as they are.
  if (missing === 0) {
    return {
      good: held.good.subarray(0, count),
      valid: held.valid.subarray(0, count),
      unjudged: 0,
      judgedFromMs,
    };
  }
  const good = new Float64Array(count - missing);
  const valid = new Float64Array(count - missing);
  let at = 0;
  for (let index = 0; index < count; index++) {
    if (Number.isNaN(held.good[index]!)) continue;
    good[at] = held.good[index]!;
    valid[at] = held.valid[index]!;
    at += 1;
  }
  return { good, valid, unjudged: missing, judgedFromMs };
}

/**
 * Judges each closed slice: good when its SLI meets the slice target. A slice without events is neither good
 * nor bad: nothing was promised and nothing broken.
 */
export function summariseSlices(
  slices: SliceSeries,
  sliceMinutes: number,
  target: number | undefined,
  windowMinutes: number,
): SliceSummary {
  let valid = 0;
  let good = 0;
  let ratioSum = 0;
  slices.valid.forEach((sliceValid, index) => {
    if (sliceValid <= 0) return;
    valid += 1;
    const ratio = slices.good[index]! / sliceValid;
    ratioSum += ratio;
    if (target !== undefined && ratio >= target) good += 1;
  });
  return {
    sliceSeconds: sliceMinutes * 60,
    total: Math.floor(windowMinutes / sliceMinutes),
    valid,
    good,
    bad: valid - good,
    ratioSum,
  };
}

/**
 * Timeslices budget in slices: the objective allows (1 − objective) of all the window's slices to be bad,
 * whether or not they have happened yet, so the budget is time (OpenSLO "Timeslices").
 */
export function timesliceBudget(objective: number, slices: SliceSummary): ErrorBudget {
  const allowed = allowedErrorRatio(objective) * slices.total;
  const consumedRatio = allowed > 0 ? slices.bad / allowed : null;
  return {
    allowed,
    consumed: slices.bad,
    remaining: allowed - slices.bad,
    consumedRatio,
    remainingRatio: consumedRatio === null ? null : 1 - consumedRatio,
  };
}

/**
 * A composite's events over a window. Each component's error rate counts weight ÷ (1 − its objective)
 * times toward the composite's burn (OpenSLO composites: "weight multiplies the rate of burning"); the
 * result is expressed as events against the composite objective: valid = all components' valid events,
 * good = valid × (1 − burn × (1 − objective)). Components without data drop out and the rest keep their
 * relative weights.
 */
export function compositeCounts(
  components: readonly CompositeComponent[],
  counts: readonly EventCounts[],
  objective: number,
): EventCounts {
  let burn = 0;
  let boundBurn = 0;
  let valid = 0;
  let weightWithData = 0;
  const allWeight = components.reduce((sum, c) => sum + c.weight, 0);
  components.forEach((component, index) => {
    const c = counts[index]!;
    if (c.valid <= 0) return;
    const scale = component.weight / allowedErrorRatio(component.objective);
    burn += (scale * (c.valid - c.good)) / c.valid;
    boundBurn += (scale * c.errorBound) / c.valid;
    valid += c.valid;
    weightWithData += component.weight;
  });
  if (valid === 0) return { good: 0, valid: 0, errorBound: 0 };
  const renormalise = allWeight / weightWithData;
  const allowed = allowedErrorRatio(objective);
  return {
    good: valid * (1 - burn * renormalise * allowed),
    valid,
    errorBound: valid * boundBurn * renormalise * allowed,
  };
}
