import type { AlertEpisode } from '../../src/alert/state.js';
import { type BurnWindow, burnRateTiers, errorBudget } from '../../src/evaluate/math.js';
import type { SloStatus } from '../../src/evaluate/status.js';

/** A fixed clock for alert tests: 2026-11-23 10:00 UTC. */
export const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const WINDOW_MS = 28 * 86_400_000;

/** Burn rates per window for each alert level the tests need (99.95% over 28 days: page at ≥ 13.44×). */
export const BURNS = {
  page: { '5m': 18.5, '30m': 16, '1h': 20, '2h': 12, '6h': 4, '1d': 2, '3d': 1.2 },
  ticket: { '5m': 3.5, '30m': 3.2, '1h': 3.4, '2h': 3.1, '6h': 3, '1d': 3, '3d': 2 },
  calm: { '5m': 0.2, '30m': 0.2, '1h': 0.2, '2h': 0.3, '6h': 0.3, '1d': 0.4, '3d': 0.5 },
} satisfies Record<string, Record<BurnWindow, number>>;

export interface StatusOptions {
  burns?: Record<BurnWindow, number>;
  good?: number;
  valid?: number;
  atMs?: number;
  lastObservationMs?: number | null;
}

/** An SloStatus of profile-availability as the evaluator would report it, built from burn rates and counts. */
export function sloStatus(options: StatusOptions = {}): SloStatus {
  const burns = options.burns ?? BURNS.calm;
  const valid = options.valid ?? 1_000_000;
  const good = options.good ?? 999_800;
  const objective = 0.9995;
  const alerts = burnRateTiers(WINDOW_MS).map((tier) => {
    const long = burns[tier.longWindow];
    const short = burns[tier.shortWindow];
    return {
      severity: tier.severity,
      longWindow: tier.longWindow,
      shortWindow: tier.shortWindow,
      factor: tier.factor,
      longBurnRate: long,
      shortBurnRate: short,
      state: long >= tier.factor && short >= tier.factor ? ('firing' as const) : ('ok' as const),
    };
  });
  const firingTiers = alerts.filter((tier) => tier.state === 'firing');
  const firing = firingTiers.some((t) => t.severity === 'page')
    ? 'page'
    : firingTiers.length > 0
      ? 'ticket'
      : null;
  const budget = errorBudget(objective, good, valid);
  const state = valid === 0 ? 'no-data' : budget.remaining <= 0 ? 'exhausted' : firing ? 'warning' : 'ok';
  const atMs = options.atMs ?? T0;
  return {
    name: 'profile-availability',
    service: 'user-profile',
    indicator: 'availability',
    objective,
    objectivePercent: 99.95,
    window: '28d',
    evaluatedAtMs: atMs,
    state,
    good,
    valid,
    sli: valid > 0 ? good / valid : null,
    sliErrorBound: 0,
    budget: { ...budget, allowedDowntimeSeconds: 1209.6 },
    burnRates: burns,
    alerts,
    firing,
    timeToExhaustionSeconds:
      budget.remainingRatio !== null && budget.remainingRatio > 0
        ? (budget.remainingRatio * WINDOW_MS) / burns['1h'] / 1000
        : budget.remainingRatio === null
          ? null
          : 0,
    lastObservationMs: options.lastObservationMs === undefined ? atMs : options.lastObservationMs,
    windowStartMs: atMs - WINDOW_MS,
  };
}

/** An open episode of profile-availability. */
export function episode(overrides: Partial<AlertEpisode> = {}): AlertEpisode {
  return {
    slo: 'profile-availability',
    service: 'user-profile',
    id: `profile-availability-${T0}`,
    level: 'critical',
    notifiedLevel: 'critical',
    startedAtMs: T0,
    lastNotifiedAtMs: T0,
    badEventsAtStart: 200,
    ...overrides,
  };
}
