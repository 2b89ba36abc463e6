import { clip } from '../definitions/timeWindows.js';
import type { BurnWindow } from '../model/budget.js';
import type { Indicator, SloDefinition } from '../model/slo.js';
import type { EventCounts, SloStatus } from '../model/status.js';
import type { Interval } from '../model/timeWindow.js';
import { compositeCounts } from './budgeting.js';
import { windowRange } from './calendar.js';
import { withoutEvents } from './corrections.js';
import { indicatorCounts } from './inputs.js';
import { burnWindows } from './math.js';
import { evaluateSlo } from './status.js';

/**
 * Sums of some series slot by slot (a minute, or an hour where minutes have aged out), as columns: a chart
 * reads tens of thousands of slots, and one object per slot would keep the garbage collector busy.
 */
export interface TimelineSlots {
  /** Ascending; slots without traffic are absent. */
  startMs: number[];
  total: number[];
  errors: number[];
  /** Latency only: requests with a duration, and those at or under the threshold. */
  timed: number[];
  latencyGood: number[];
}

/** The SLO as it stood at one time, and the traffic of the step that ended then. */
export interface SloPoint {
  atMs: number;
  sli: number | null;
  good: number;
  valid: number;
  budgetRemaining: number | null;
  burnRates: Record<BurnWindow, number | null>;
  /** The highest burn-rate alert tier firing then, or null. */
  firing: 'page' | 'ticket' | null;
  requestsPerSecond: number;
  /** Server errors (5xx or error-flagged) per second. */
  errorsPerSecond: number;
  /** Events the SLI counts as bad per second (errors for availability, slow requests for latency). */
  badPerSecond: number;
}

export interface StepRange {
  fromMs: number;
  toMs: number;
  stepMs: number;
}

/** Points one range may have: a month at one-minute steps is more than any chart can show. */
export const MAX_STEPS = 11_000;

/**
 * What is wrong with a range before anything walks it, in integer arithmetic: whole milliseconds that are safe
 * integers (past 2^53 `t += step` stops advancing), from before to, and at most MAX_STEPS steps.
 */
export function stepRangeProblem({ fromMs, toMs, stepMs }: StepRange): string | undefined {
  if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs))
    return 'from and to must be whole milliseconds';
  if (!Number.isSafeInteger(stepMs) || stepMs <= 0)
    return 'step must be a positive whole number of milliseconds';
  if (fromMs >= toMs) return 'from must be before to';
  if (Math.floor((toMs - fromMs) / stepMs) + 1 > MAX_STEPS)
    return `at most ${MAX_STEPS} points per request; use a larger step`;
  return undefined;
}

/**
 * Step ends on multiples of the step after `fromMs` (so refreshes keep the same times), and `toMs` itself
 * last, so a chart ending now ends on the numbers the status tiles show. Throws RangeError on a range
 * stepRangeProblem refuses, so the loop is bounded whoever calls it.
 */
export function stepTimes(range: StepRange): number[] {
  const problem = stepRangeProblem(range);
  if (problem !== undefined) throw new RangeError(problem);
  const { fromMs, toMs, stepMs } = range;
  const times: number[] = [];
  for (let t = Math.floor(fromMs / stepMs) * stepMs + stepMs; t <= toMs; t += stepMs) times.push(t);
  if (times.at(-1) !== toMs) times.push(toMs);
  return times;
}

/** Cumulative sums over slots, so any window's sum is two binary searches. */
class SlotSums {
  private readonly starts: number[];
  private readonly total: Float64Array;
  private readonly errors: Float64Array;
  private readonly timed: Float64Array;
  private readonly latencyGood: Float64Array;

  constructor(slots: TimelineSlots) {
    this.starts = slots.startMs;
    const cumulative = (column: number[]) => {
      const sums = new Float64Array(column.length + 1);
      for (let i = 0; i < column.length; i++) sums[i + 1] = sums[i]! + column[i]!;
      return sums;
    };
    this.total = cumulative(slots.total);
    this.errors = cumulative(slots.errors);
    this.timed = cumulative(slots.timed);
    this.latencyGood = cumulative(slots.latencyGood);
  }

  /** Index of the first slot starting at or after `ms`. */
  private index(ms: number): number {
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.starts[mid]! < ms) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Sums of slots starting in [fromMs, toMs), in the shape the evaluator reads from the store. */
  window(fromMs: number, toMs: number) {
    const a = this.index(fromMs);
    const b = this.index(toMs);
    return {
      total: this.total[b]! - this.total[a]!,
      errors: this.errors[b]! - this.errors[a]!,
      timed: this.timed[b]! - this.timed[a]!,
      latencyGood: this.latencyGood[b]! - this.latencyGood[a]!,
      latencyErrorBound: 0,
      estimated: 0,
      effectiveFromMs: fromMs,
    };
  }
}

/** The slots one indicator of an SLO reads (a composite has one per component, in component order). */
export interface IndicatorSlots {
  indicator: Indicator;
  slots: TimelineSlots;
}

/**
 * The SLO evaluated at each step end with the same pure evaluateSlo the scheduler runs, over slot sums
 * instead of window queries: a 28-day chart at 1-hour steps is 672 evaluations over one read per indicator.
 * Windows follow the SLO (rolling, or the calendar period holding the step); composites combine their
 * components by weight as the evaluator does. Slots count whole by their start, so a window reaching into
 * hour rollups is aligned to the hour, as the evaluator's long windows are. Slice budgeting is not
 * re-cut per step: those SLOs chart their event ratio. Events in `exclude` (corrections) are left out, as
 * the evaluator leaves them out.
 */
export function sloTimeseries(
  definition: SloDefinition,
  parts: readonly IndicatorSlots[],
  range: StepRange,
  exclude: readonly Interval[] = [],
): SloPoint[] {
  const sums = parts.map((part) => ({ indicator: part.indicator, sums: new SlotSums(part.slots) }));
  const counts = (fromMs: number, toMs: number): EventCounts => {
    const each = sums.map((part) => {
      const all = indicatorCounts(part.indicator, part.sums.window(fromMs, toMs));
      return clip(exclude, fromMs, toMs).reduce(
        (left, cut) =>
          withoutEvents(left, indicatorCounts(part.indicator, part.sums.window(cut.startMs, cut.endMs))),
        all,
      );
    });
    return definition.composite
      ? compositeCounts(definition.composite.components, each, definition.objective)
      : each[0]!;
  };
  const stepSeconds = range.stepMs / 1000;
  const windows = burnWindows(definition.windowMs);
  return stepTimes(range).map((atMs) => {
    const burnCounts: Record<BurnWindow, EventCounts> = {};
    for (const [name, ms] of windows) burnCounts[name] = counts(atMs - ms, atMs);
    const window = windowRange(definition.windowSpec, atMs);
    const status = evaluateSlo(
      definition,
      {
        window: counts(window.startMs, atMs),
        burnWindows: burnCounts,
        lastObservationMs: null,
        windowStartMs: window.startMs,
        ...(definition.windowSpec.kind === 'calendar' && { windowEndMs: window.endMs }),
      },
      atMs,
    );
    const step = counts(atMs - range.stepMs, atMs);
    let requests = 0;
    let errors = 0;
    for (const part of sums) {
      const stepSums = part.sums.window(atMs - range.stepMs, atMs);
      requests += stepSums.total;
      errors += stepSums.errors;
    }
    return sloPoint(status, { requests, errors, bad: step.valid - step.good }, stepSeconds);
  });
}

/** A chart point: the status evaluated at a step's end, and the step's traffic (events in the step). */
export function sloPoint(
  status: SloStatus,
  step: { requests: number; errors: number; bad: number },
  stepSeconds: number,
): SloPoint {
  return {
    atMs: status.evaluatedAtMs,
    sli: status.sli,
    good: status.good,
    valid: status.valid,
    budgetRemaining: status.budget.remainingRatio,
    burnRates: status.burnRates,
    firing: status.firing,
    requestsPerSecond: step.requests / stepSeconds,
    errorsPerSecond: step.errors / stepSeconds,
    badPerSecond: step.bad / stepSeconds,
  };
}

export interface FiringEpisode {
  severity: 'page' | 'ticket';
  startedAtMs: number;
  /** Null while it still fires at the last point. */
  endedAtMs: number | null;
}

/**
 * Runs of points where a burn-rate tier fires, for drawing on the time axis; a page within a ticket run
 * raises the whole run to a page. An episode starts one step before its first firing point.
 */
export function firingEpisodes(points: readonly SloPoint[], stepMs: number): FiringEpisode[] {
  const episodes: FiringEpisode[] = [];
  let open: FiringEpisode | undefined;
  for (const point of points) {
    if (point.firing && !open) {
      open = { severity: point.firing, startedAtMs: point.atMs - stepMs, endedAtMs: null };
      episodes.push(open);
    } else if (point.firing && open && point.firing === 'page') open.severity = 'page';
    else if (!point.firing && open) {
      open.endedAtMs = point.atMs;
      open = undefined;
    }
  }
  return episodes;
}
