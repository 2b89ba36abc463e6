import { evaluateSlo } from '../../src/evaluate/status.js';
import type { AlertEpisode } from '../../src/model/alert.js';
import type { BurnWindow } from '../../src/model/budget.js';
import type { SloDefinition } from '../../src/model/slo.js';
import type { EventCounts, SloStatus } from '../../src/model/status.js';

/** A fixed clock for alert tests: 2026-11-23 10:00 UTC. */
export const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const WINDOW_MS = 28 * 86_400_000;

/** Burn rates per window for each alert level the tests need (99.95% over 28 days: page above 14× over 1h and 5m, ticket above 2× over 1d and 2h or 1× over 4d and 6h). */
export const BURNS = {
  page: { '5m': 18.5, '30m': 16, '1h': 20, '2h': 12, '6h': 4, '1d': 2, '3d': 1.2, '4d': 1.2 },
  ticket: { '5m': 3.5, '30m': 3.2, '1h': 3.4, '2h': 3.1, '6h': 3, '1d': 3, '3d': 2, '4d': 2 },
  calm: { '5m': 0.2, '30m': 0.2, '1h': 0.2, '2h': 0.3, '6h': 0.3, '1d': 0.4, '3d': 0.5, '4d': 0.5 },
} satisfies Record<string, Record<BurnWindow, number>>;

export interface StatusOptions {
  burns?: Record<BurnWindow, number>;
  good?: number;
  valid?: number;
  atMs?: number;
  lastObservationMs?: number | null;
}

/** The definition fields the evaluation reads: profile-availability, 99.95% over 28 days. */
const DEFINITION = {
  name: 'profile-availability',
  service: 'user-profile',
  labels: {},
  indicator: { source: 'loadbalancer', select: {}, good: { kind: 'availability' } },
  objective: 0.9995,
  objectivePercent: 99.95,
  windowMs: WINDOW_MS,
  window: '28d',
  windowSpec: { kind: 'rolling', ms: WINDOW_MS },
  budgeting: 'occurrences',
} as unknown as SloDefinition; // the parts of a loaded definition that only the loader uses are left out

/** Events over one window that burn at `rate` for a 99.95% objective (a million, bad ones exact). */
function burning(rate: number) {
  const valid = 1_000_000;
  return { good: valid - Math.round(rate * 0.0005 * valid), valid, errorBound: 0 };
}

/** An SloStatus of profile-availability from the real evaluation, built from burn rates and window counts. */
export function sloStatus(options: StatusOptions = {}): SloStatus {
  const burns = options.burns ?? BURNS.calm;
  const valid = options.valid ?? 1_000_000;
  const good = options.good ?? 999_800;
  const atMs = options.atMs ?? T0;
  const burnWindows = Object.fromEntries(
    Object.entries(burns).map(([window, rate]) => [window, burning(rate)]),
  ) as Record<BurnWindow, EventCounts>;
  return evaluateSlo(
    DEFINITION,
    {
      window: { good, valid, errorBound: 0 },
      burnWindows,
      lastObservationMs: options.lastObservationMs === undefined ? atMs : options.lastObservationMs,
      windowStartMs: atMs - WINDOW_MS,
    },
    atMs,
  );
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
    burnStartedAtMs: T0,
    badEventsAtBurnStart: 200,
    severity: 'page',
    escalations: [],
    peakBurnRate: BURNS.page['1h'],
    ...overrides,
  };
}
