import type { BurnWindow, ErrorBudget, SliceSummary, TierState } from './budget.js';
import type { BudgetingMethod } from './slo.js';

/** Good and valid events of one SLO over one window. */
export interface EventCounts {
  good: number;
  valid: number;
  /** Latency SLIs read from the histogram: how many good events could be off. */
  errorBound: number;
}

export type SloState = 'ok' | 'warning' | 'exhausted' | 'insufficient-data' | 'no-data';

export interface AlertTierStatus {
  severity: 'page' | 'ticket';
  longWindow: BurnWindow;
  shortWindow: BurnWindow;
  factor: number;
  longBurnRate: number | null;
  shortBurnRate: number | null;
  state: TierState;
}

/** One evaluation of one SLO at one time. */
export interface SloStatus {
  name: string;
  service: string;
  indicator: 'availability' | 'latency';
  objective: number;
  objectivePercent: number;
  window: string;
  evaluatedAtMs: number;
  state: SloState;
  /** Valid events the window needs before its budget is judged (see `defaultMinValidEvents`). */
  minValidEvents: number;
  /** Whether the window holds that many: below it the state is `insufficient-data` and no tier alerts. */
  enoughData: boolean;
  good: number;
  valid: number;
  sli: number | null;
  /** For latency SLIs read from histograms: the SLI could be off by this much either way. */
  sliErrorBound: number;
  budget: ErrorBudget & { allowedDowntimeSeconds: number };
  /** Burn rate per window: the reported windows and the SLO's tier windows (see `burnWindows`). */
  burnRates: Record<BurnWindow, number | null>;
  alerts: AlertTierStatus[];
  /** Highest firing severity, or null. */
  firing: 'page' | 'ticket' | null;
  timeToExhaustionSeconds: number | null;
  lastObservationMs: number | null;
  /** Where the SLO window really began (later than asked when data is younger, earlier when hour-aligned). */
  windowStartMs: number;
  /** Set when the SLO's source could not be read this tick (engine down or slow): the numbers are old. */
  staleReason?: string;
  /** Where a calendar window ends (the budget is for the whole period); null for rolling windows. */
  windowEndMs?: number | null;
  budgeting?: BudgetingMethod;
  /** Slice counts for timeslices and ratio-timeslices (then `sli` and `budget` are in slices); else null. */
  slices?: SliceSummary | null;
  /** Problems worth a look that do not stop the evaluation, e.g. an SLO selecting no series seen so far. */
  warnings?: string[];
  /** Corrections in force somewhere in the SLO window or a burn-rate window; null when none is. */
  corrections?: CorrectionsStatus | null;
}

/** What corrections did to a status (docs/corrections.md). */
export interface CorrectionsStatus {
  /** Ids of the corrections applied. */
  applied: string[];
  /** Events left out of the SLO window by `exclude` corrections. */
  excluded: { good: number; valid: number };
  /** Events of the SLO window in `planned` corrections (they count), and the budget they spent. */
  planned: { good: number; valid: number; budgetConsumed: number; budgetConsumedRatio: number | null };
}
