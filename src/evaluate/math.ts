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

export interface ErrorBudget {
  /** Bad events the objective allows over the window: (1 − objective) × valid. */
  allowed: number;
  /** Bad events so far. */
  consumed: number;
  /** allowed − consumed; negative when overspent. */
  remaining: number;
  /** consumed ÷ allowed (2 = 200%); null without valid events. */
  consumedRatio: number | null;
  /** 1 − consumedRatio (−1 = −100%); null without valid events. */
  remainingRatio: number | null;
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

/** The standard burn-rate windows; every tier's long and short window is among them. */
export const BURN_WINDOWS_MS = {
  '5m': 300_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
  '3d': 259_200_000,
} as const;
export type BurnWindow = keyof typeof BURN_WINDOWS_MS;

/** One tier of the multi-window multi-burn-rate alert (SRE Workbook ch. 5). */
export interface BurnRateTier {
  severity: 'page' | 'ticket';
  longWindow: BurnWindow;
  shortWindow: BurnWindow;
  /** Share of the whole budget this tier lets burn within its long window before it fires. */
  budgetShare: number;
  /** Burn-rate threshold for this SLO's window. */
  factor: number;
}

/** The Workbook's tiers as budget shares: 2% in 1h, 5% in 6h, 10% in 1d, 10% in 3d. */
const WORKBOOK_TIERS: ReadonlyArray<Omit<BurnRateTier, 'factor'>> = [
  { severity: 'page', longWindow: '1h', shortWindow: '5m', budgetShare: 0.02 },
  { severity: 'page', longWindow: '6h', shortWindow: '30m', budgetShare: 0.05 },
  { severity: 'ticket', longWindow: '1d', shortWindow: '2h', budgetShare: 0.1 },
  { severity: 'ticket', longWindow: '3d', shortWindow: '6h', budgetShare: 0.1 },
];

/**
 * Factors scaled to the SLO window as Sloth does: factor = share × window ÷ long window. For 30 days this
 * gives the Workbook's 14.4, 6, 3 and 1; for 28 days 13.44, 5.6, 2.8 and 0.933.
 */
export function burnRateTiers(windowMs: number): BurnRateTier[] {
  return WORKBOOK_TIERS.map((tier) => ({
    ...tier,
    factor: (tier.budgetShare * windowMs) / BURN_WINDOWS_MS[tier.longWindow],
  }));
}

export type TierState = 'firing' | 'ok' | 'insufficient-data';

/**
 * A tier fires when both its windows burn at or above its factor. Below `minEvents` valid events in the long
 * window it does not judge by ratio alone: one failed request out of two is not a page.
 */
export function tierState(
  tier: BurnRateTier,
  long: { rate: number | null; valid: number },
  short: { rate: number | null },
  minEvents: number,
): TierState {
  if (long.valid < minEvents) return 'insufficient-data';
  return long.rate !== null && short.rate !== null && long.rate >= tier.factor && short.rate >= tier.factor
    ? 'firing'
    : 'ok';
}
