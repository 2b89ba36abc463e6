import { formatDuration } from '../config/duration.js';
import type { BurnWindow, ErrorBudget, TierState } from '../model/budget.js';

/**
 * SLI, error budget and burn-rate arithmetic. Pure: numbers in, numbers out. A ratio that has no meaning
 * (no valid events) is null, never NaN or Infinity, so it survives JSON and comparisons.
 */

/**
 * The share of events allowed to fail, 1 − objective, rounded to 12 decimals so 99.95% is exactly 0.0005 and
 * budgets read as people compute them (5 allowed of 10,000, not 4.9999999999999).
 */
export function allowedErrorRatio(objective: number): number {
  return Math.round((1 - objective) * 1e12) / 1e12;
}

/** Good over valid events; null without valid events. */
export function sliRatio(good: number, valid: number): number | null {
  return valid > 0 ? good / valid : null;
}

export function errorBudget(objective: number, good: number, valid: number): ErrorBudget {
  const allowed = allowedErrorRatio(objective) * valid;
  const consumed = valid - good;
  const consumedRatio = valid > 0 && allowed > 0 ? consumed / allowed : null;
  return {
    allowed,
    consumed,
    remaining: allowed - consumed,
    consumedRatio,
    remainingRatio: consumedRatio === null ? null : 1 - consumedRatio,
  };
}

/** Error rate ÷ (1 − objective): 1.0 spends exactly the window's budget by the window's end. */
export function burnRate(objective: number, good: number, valid: number): number | null {
  if (valid <= 0) return null;
  return (valid - good) / valid / allowedErrorRatio(objective);
}

/** Full outage the objective allows over a window: 99.95% over 28 days → 20.16 minutes. */
export function allowedDowntimeMs(objective: number, windowMs: number): number {
  return allowedErrorRatio(objective) * windowMs;
}

/** Time until the remaining budget is gone at a burn rate, over the SLO window; null if it never will be. */
export function timeToExhaustionMs(
  remainingRatio: number | null,
  rate: number | null,
  windowMs: number,
): number | null {
  if (remainingRatio === null || rate === null || rate <= 0) return null;
  if (remainingRatio <= 0) return 0;
  return (remainingRatio * windowMs) / rate;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Windows every status reports a burn rate over, whatever its SLO window: what charts, messages and the gate
 * answer read (`burn_rates`). An SLO's tiers add their own windows to these.
 */
export const REPORTED_BURN_WINDOWS_MS: Readonly<Record<string, number>> = {
  '5m': 300_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '6h': 21_600_000,
  '1d': DAY_MS,
  '3d': 3 * DAY_MS,
};
/** One tier of the multi-window multi-burn-rate alert (SRE Workbook ch. 5). */
export interface BurnRateTier {
  severity: 'page' | 'ticket';
  longWindow: BurnWindow;
  shortWindow: BurnWindow;
  longWindowMs: number;
  shortWindowMs: number;
  /** Burn-rate threshold: the tier fires when both windows burn faster than this. */
  factor: number;
  /** Share of the whole budget spent in the long window at the factor's rate, when the tier fires. */
  budgetShare: number;
}

/** Pyrra's tiers, laid out for a 28-day window: the factors stay, the windows scale with the SLO window. */
const ANCHOR_WINDOW_MS = 28 * DAY_MS;
const TIERS_AT_ANCHOR: ReadonlyArray<{
  severity: BurnRateTier['severity'];
  longMs: number;
  shortMs: number;
  factor: number;
}> = [
  { severity: 'page', longMs: 3_600_000, shortMs: 300_000, factor: 14 },
  { severity: 'page', longMs: 21_600_000, shortMs: 1_800_000, factor: 7 },
  { severity: 'ticket', longMs: DAY_MS, shortMs: 7_200_000, factor: 2 },
  { severity: 'ticket', longMs: 4 * DAY_MS, shortMs: 21_600_000, factor: 1 },
];

/** SLO window lengths a process remembers the derived windows of: definitions use a handful. */
const WINDOW_LENGTHS_KEPT = 64;

/**
 * `derive` remembered per window length, its answer frozen (shared by every caller): a tick asked for the
 * same few windows once per SLO, a tenth of its garbage at 10,000 SLOs.
 */
function byWindowLength<T extends object>(derive: (windowMs: number) => T): (windowMs: number) => T {
  const known = new Map<number, T>();
  return (windowMs) => {
    let derived = known.get(windowMs);
    if (derived === undefined) {
      if (known.size >= WINDOW_LENGTHS_KEPT) known.clear();
      derived = deepFreeze(derive(windowMs));
      known.set(windowMs, derived);
    }
    return derived;
  };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value))
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  return Object.freeze(value);
}

/** A window scaled from 28 days to the SLO window, in whole minutes (the bucket size), at least one. */
function scaledWindowMs(msAtAnchor: number, windowMs: number): number {
  return Math.max(MINUTE_MS, Math.round((msAtAnchor * windowMs) / ANCHOR_WINDOW_MS / MINUTE_MS) * MINUTE_MS);
}

/**
 * The burn-rate tiers of an SLO window, for the alert engine, the gate and `sloguard rules` alike. Factors
 * are fixed (14, 7, 2, 1) and no tier fires at or under 1×; the windows scale with the SLO window as Pyrra
 * does, so each tier spends the same share of the budget before it fires whatever the window (28 days:
 * 1h/5m, 6h/30m, 1d/2h, 4d/6h). Calendar windows use their nominal length (a month is 30 days).
 */
export const burnRateTiers = byWindowLength((windowMs): readonly BurnRateTier[] =>
  TIERS_AT_ANCHOR.map((tier) => {
    const longWindowMs = scaledWindowMs(tier.longMs, windowMs);
    const shortWindowMs = scaledWindowMs(tier.shortMs, windowMs);
    return {
      severity: tier.severity,
      longWindow: formatDuration(longWindowMs),
      shortWindow: formatDuration(shortWindowMs),
      longWindowMs,
      shortWindowMs,
      factor: tier.factor,
      budgetShare: (tier.factor * longWindowMs) / windowMs,
    };
  }),
);

/** Every window an SLO needs a burn rate over, shortest first: the reported ones and its tiers' own. */
export const burnWindows = byWindowLength((windowMs): ReadonlyArray<readonly [BurnWindow, number]> => {
  const windows = new Map(Object.entries(REPORTED_BURN_WINDOWS_MS));
  for (const tier of burnRateTiers(windowMs)) {
    windows.set(tier.longWindow, tier.longWindowMs);
    windows.set(tier.shortWindow, tier.shortWindowMs);
  }
  return [...windows].sort((a, b) => a[1] - b[1]);
});

/**
 * How long a sudden burn at `rate` takes to fire a tier from a clean history: the long window's rate
 * passes the factor after factor ÷ rate of it (the short window, shorter, passes first). Null if it never does.
 */
export function detectionMs(tier: BurnRateTier, rate: number): number | null {
  return rate > tier.factor ? (tier.factor / rate) * tier.longWindowMs : null;
}

/**
 * A tier fires when both its windows burn faster than its factor (strictly, so a factor of 1 never fires on a
 * budget spent exactly by the window's end). Below `minEvents` valid events in the long
 * window it does not judge by ratio alone: one failed request out of two is not a page.
 */
export function tierState(
  tier: BurnRateTier,
  long: { rate: number | null; valid: number },
  short: { rate: number | null },
  minEvents: number,
): TierState {
  if (long.valid < minEvents) return 'insufficient-data';
  return long.rate !== null && short.rate !== null && long.rate > tier.factor && short.rate > tier.factor
    ? 'firing'
    : 'ok';
}
