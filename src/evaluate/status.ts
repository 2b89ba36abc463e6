import type { BurnWindow, ErrorBudget, SliceSummary } from '../model/budget.js';
import type { SloDefinition } from '../model/slo.js';
import type {
  AlertTierStatus,
  CorrectionsStatus,
  EventCounts,
  SloState,
  SloStatus,
} from '../model/status.js';
import { timesliceBudget } from './budgeting.js';
import {
  allowedDowntimeMs,
  allowedErrorRatio,
  burnRate,
  burnRateTiers,
  errorBudget,
  sliRatio,
  tierState,
  timeToExhaustionMs,
} from './math.js';

export interface EvaluationInput {
  /** Counts over the SLO window. */
  window: EventCounts;
  /** Counts per burn-rate window. */
  burnWindows: Record<BurnWindow, EventCounts>;
  lastObservationMs: number | null;
  windowStartMs: number;
  /** Calendar windows: the end of the current period. */
  windowEndMs?: number;
  /** Slice budgeting: the window's slices judged. */
  slices?: SliceSummary;
  warnings?: string[];
  /** Events the SLO window's corrections cover (already left out of `window` where excluded). */
  corrections?: { applied: readonly string[]; excluded: EventCounts; planned: EventCounts };
}

/** Below this many valid events in a tier's long window, the tier reports insufficient data. */
export const DEFAULT_MIN_EVENTS = 10;

/**
 * Valid events a window needs before its budget is judged: enough for the objective to allow one bad event,
 * valid × (1 − objective) ≥ 1 (2,000 for 99.95%). Below it a single failure would read as an exhausted budget.
 */
export function defaultMinValidEvents(objective: number): number {
  return Math.ceil(1 / allowedErrorRatio(objective) - 1e-9);
}

/** The highest severity of the firing tiers, or null; nothing fires without enough data. */
function firingOf(alerts: readonly AlertTierStatus[], enoughData: boolean): SloStatus['firing'] {
  if (!enoughData) return null;
  if (alerts.some((tier) => tier.state === 'firing' && tier.severity === 'page')) return 'page';
  return alerts.some((tier) => tier.state === 'firing') ? 'ticket' : null;
}

/** The state of a status's numbers once judged (see judgedAgainst). */
function stateOf(
  status: Pick<SloStatus, 'valid' | 'slices' | 'budget'>,
  enoughData: boolean,
  firing: SloStatus['firing'],
): SloState {
  if (status.valid === 0 && !status.slices?.valid) return 'no-data';
  if (!enoughData) return 'insufficient-data';
  if (status.budget.remaining <= 0) return 'exhausted';
  return firing ? 'warning' : 'ok';
}

/**
 * The state and firing severity of a status judged against a minimum of valid events: the evaluator's (the
 * SLO's minimum) and the gate's (a GatePolicy's) alike. Without enough events the state is
 * `insufficient-data` and nothing fires, whatever the ratios say.
 */
export function judgedAgainst(status: SloStatus, minValidEvents: number): SloStatus {
  const enoughData = status.valid >= minValidEvents;
  const firing = firingOf(status.alerts, enoughData);
  return { ...status, minValidEvents, enoughData, firing, state: stateOf(status, enoughData, firing) };
}

/** Computes an SloStatus from event counts. Pure: no clock, no store. */
export function evaluateSlo(
  definition: SloDefinition,
  input: EvaluationInput,
  nowMs: number,
  minEvents = DEFAULT_MIN_EVENTS,
): SloStatus {
  const { objective } = definition;
  const { good, valid, errorBound } = input.window;
  const { sli, budget } = budgetOf(definition, input);
  const burnRates: Record<BurnWindow, number | null> = {};
  // for…in: Object.entries made an array of pairs per SLO, and its iteration an object per pair (issue #23).
  for (const name in input.burnWindows) {
    const counts = input.burnWindows[name]!;
    burnRates[name] = burnRate(objective, counts.good, counts.valid);
  }
  const tiers = burnRateTiers(definition.windowMs);
  const alerts = tiers.map(
    (tier): AlertTierStatus => ({
      severity: tier.severity,
      longWindow: tier.longWindow,
      shortWindow: tier.shortWindow,
      factor: tier.factor,
      longBurnRate: burnRates[tier.longWindow] ?? null,
      shortBurnRate: burnRates[tier.shortWindow] ?? null,
      state: tierState(
        tier,
        { rate: burnRates[tier.longWindow] ?? null, valid: input.burnWindows[tier.longWindow]?.valid ?? 0 },
        { rate: burnRates[tier.shortWindow] ?? null },
        minEvents,
      ),
    }),
  );
  // The page tier's long window: recent enough to act on, long enough not to swing with every minute.
  const recentRate = burnRates[tiers[0]!.longWindow] ?? null;
  const windowMs =
    input.windowEndMs === undefined ? definition.windowMs : input.windowEndMs - input.windowStartMs;
  const exhaustionMs = timeToExhaustionMs(budget.remainingRatio, recentRate, windowMs);
  const slices = input.slices ?? null;
  // Field by field: a spread of the budget and a sixth field took 424 bytes a status that lives through the
  // tick, written out 147 (Node 20, measured; issue #23).
  const fullBudget = {
    allowed: budget.allowed,
    consumed: budget.consumed,
    remaining: budget.remaining,
    consumedRatio: budget.consumedRatio,
    remainingRatio: budget.remainingRatio,
    allowedDowntimeSeconds: allowedDowntimeMs(objective, windowMs) / 1000,
  };
  // Judged here rather than by judgedAgainst: its copy made every status twice, and a tick's statuses are
  // what its scavenges copy (issue #23).
  const minValidEvents = definition.minValidEvents ?? defaultMinValidEvents(objective);
  const enoughData = valid >= minValidEvents;
  const firing = firingOf(alerts, enoughData);
  return {
    name: definition.name,
    service: definition.service,
    indicator: definition.indicator.good.kind,
    objective,
    objectivePercent: definition.objectivePercent,
    window: definition.window,
    evaluatedAtMs: nowMs,
    state: stateOf({ valid, slices, budget: fullBudget }, enoughData, firing),
    minValidEvents,
    enoughData,
    good,
    valid,
    sli,
    sliErrorBound: valid > 0 ? errorBound / valid : 0,
    budget: fullBudget,
    burnRates,
    alerts,
    firing,
    timeToExhaustionSeconds: exhaustionMs === null ? null : exhaustionMs / 1000,
    lastObservationMs: input.lastObservationMs,
    windowStartMs: input.windowStartMs,
    windowEndMs: input.windowEndMs ?? null,
    budgeting: definition.budgeting,
    slices,
    warnings: input.warnings ?? [],
    // Events the objective allows to fail, whatever the budgeting method counts the budget in.
    corrections: input.corrections
      ? correctionsStatus(input.corrections, allowedErrorRatio(objective) * valid)
      : null,
  };
}

/** Planned downtime spends the budget: how much, in bad events and as a share of the window's allowance. */
function correctionsStatus(
  corrections: NonNullable<EvaluationInput['corrections']>,
  allowed: number,
): CorrectionsStatus {
  const { excluded, planned } = corrections;
  const budgetConsumed = planned.valid - planned.good;
  return {
    // The status's own copy: the read's list may be shared (corrections.ts' none in force is frozen).
    applied: [...corrections.applied],
    excluded: { good: excluded.good, valid: excluded.valid },
    planned: {
      good: planned.good,
      valid: planned.valid,
      budgetConsumed,
      budgetConsumedRatio: allowed > 0 ? budgetConsumed / allowed : null,
    },
  };
}

/** SLI and budget by the budgeting method: events, good slices of all, or the mean slice SLI. */
function budgetOf(
  definition: SloDefinition,
  input: EvaluationInput,
): { sli: number | null; budget: ErrorBudget } {
  const { objective } = definition;
  const slices = input.slices;
  if (definition.budgeting === 'timeslices' && slices)
    return { sli: sliRatio(slices.good, slices.valid), budget: timesliceBudget(objective, slices) };
  if (definition.budgeting === 'ratio-timeslices' && slices)
    return {
      sli: sliRatio(slices.ratioSum, slices.valid),
      budget: errorBudget(objective, slices.ratioSum, slices.valid),
    };
  const { good, valid } = input.window;
  return { sli: sliRatio(good, valid), budget: errorBudget(objective, good, valid) };
}
