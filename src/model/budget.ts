/** An error budget over a window: what the objective allows, what is spent, what is left. */
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

/** A burn-rate window by its duration spelling (`5m`, `1h30m`). */
export type BurnWindow = string;

export type TierState = 'firing' | 'ok' | 'insufficient-data';

/** What the closed slices of a window add up to. */
export interface SliceSummary {
  sliceSeconds: number;
  /** Slices that fit in the whole window (the budget is a share of them). */
  total: number;
  /** Closed slices judged that have at least one valid event. */
  valid: number;
  /** Closed slices whose SLI met the slice target (timeslices). */
  good: number;
  /** valid − good. */
  bad: number;
  /** Sum of the slices' SLIs (ratio-timeslices). */
  ratioSum: number;
}
