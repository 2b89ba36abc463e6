import { parseDuration } from '../config/duration.js';
import { ALERT_LEVELS, type AlertEpisode, type AlertLevel } from '../model/alert.js';
import type { IncidentEpisode, Severity } from '../model/incident.js';
import type { AlertTierStatus, SloStatus } from '../model/status.js';

const rank = (level: AlertLevel) => ALERT_LEVELS.indexOf(level);

/** Page for a fast burn; everything else that fires is a ticket. */
export function severityOf(level: AlertLevel): Severity {
  return level === 'critical' ? 'page' : 'ticket';
}

/** The tier that sees a burn first: the one with the shortest short window (the Workbook's 1h and 5m page). */
function fastestTier(status: SloStatus): AlertTierStatus | undefined {
  let fastest: AlertTierStatus | undefined;
  let fastestMs = Number.POSITIVE_INFINITY;
  for (const tier of status.alerts) {
    const ms = parseDuration(tier.shortWindow) ?? Number.POSITIVE_INFINITY;
    if (ms < fastestMs) [fastest, fastestMs] = [tier, ms];
  }
  return fastest;
}

/** Whether the budget is burning now: the fastest tier's short window spends it faster than 1×. */
export function isBurning(status: SloStatus): boolean {
  const rate = fastestTier(status)?.shortBurnRate;
  return rate !== null && rate !== undefined && rate > 1;
}

/** The burn rate an episode's peak is taken of: the fastest tier's long window (1h), steadier than its 5m. */
const peakRateOf = (status: SloStatus): number | null => fastestTier(status)?.longBurnRate ?? null;

/** Where a burn began: its first evaluation, and the bad events in the SLO window just before it. */
export interface BurnStart {
  startedAtMs: number;
  badEventsBefore: number;
}

/** Share of the SLO's error budget an episode spent from its burn start; null without a budget. */
export function budgetSpentSince(episode: AlertEpisode, status: SloStatus): number | null {
  const { allowed, consumed } = status.budget;
  const before = episode.badEventsAtBurnStart ?? episode.badEventsAtStart;
  // Old failures leaving the window can make the difference negative: the episode spent nothing then.
  return allowed > 0 ? Math.max(0, consumed - before) / allowed : null;
}

/** The history's record of an episode as it stands after `status` (resolved at `resolvedAtMs`, or open). */
export function incidentEpisode(
  episode: AlertEpisode,
  status: SloStatus,
  resolvedAtMs: number | null,
): IncidentEpisode {
  return {
    id: episode.id,
    slo: episode.slo,
    service: episode.service,
    severity: episode.severity ?? severityOf(episode.notifiedLevel),
    burnStartedAtMs: episode.burnStartedAtMs ?? episode.startedAtMs,
    detectedAtMs: episode.startedAtMs,
    escalations: episode.escalations ?? [],
    resolvedAtMs,
    peakBurnRate: episode.peakBurnRate ?? null,
    budgetConsumed: budgetSpentSince(episode, status),
  };
}

const higher = (a: number | null | undefined, b: number | null): number | null =>
  a === null || a === undefined ? b : b === null ? a : Math.max(a, b);

/** The episode's history fields after one more evaluation at `level`: peak, severity reached, escalations. */
function tracked(open: AlertEpisode, level: AlertLevel, status: SloStatus, nowMs: number): AlertEpisode {
  const severity = severityOf(level);
  const before = open.severity ?? severityOf(open.notifiedLevel);
  const rises = before === 'ticket' && severity === 'page';
  return {
    ...open,
    severity: rises ? 'page' : before,
    escalations: rises ? [...(open.escalations ?? []), { severity, atMs: nowMs }] : (open.escalations ?? []),
    peakBurnRate: higher(open.peakBurnRate, peakRateOf(status)),
  };
}

/**
 * An SLO whose data stopped less than this long ago is not yet without data (a calendar window that just
 * began is empty until its first request).
 */
const NO_DATA_AFTER_MS = 3_600_000;

/**
 * The alert level an evaluation calls for. `no-data` only alerts for an SLO that has seen data, but none
 * for an hour: a new SLO without traffic yet is not an incident, nor a calendar period a minute old.
 */
export function alertLevel(status: SloStatus): AlertLevel {
  if (status.firing === 'page') return 'critical';
  if (status.firing === 'ticket') return 'warning';
  if (status.state === 'exhausted') return 'exhausted';
  const silentFor = status.lastObservationMs === null ? 0 : status.evaluatedAtMs - status.lastObservationMs;
  if (status.state === 'no-data' && silentFor >= NO_DATA_AFTER_MS) return 'no-data';
  return 'ok';
}

export type AlertEventKind = 'firing' | 'escalated' | 'repeat' | 'resolved';

/** Something to tell people about one SLO's alert. */
export interface AlertEvent {
  kind: AlertEventKind;
  episode: AlertEpisode;
  /** The level announced before this event (escalated: the lower level; firing: ok). */
  previousLevel: AlertLevel;
  /** The level now (resolved: the last level of the episode). */
  level: AlertLevel;
  status: SloStatus;
  atMs: number;
  /** Resolved only: how long the episode lasted and how much budget it spent (share of the budget). */
  durationMs?: number;
  budgetSpent?: number | null;
  /** Resolved because the SLO was removed from the definitions (its last status is the one shown). */
  removed?: boolean;
}

export interface Transition {
  /** The episode after this evaluation; undefined when none is open. */
  episode: AlertEpisode | undefined;
  event: AlertEvent | undefined;
}

/** The event that closes an open episode; `status` is the SLO's latest (its last, for a removed SLO). */
export function resolution(open: AlertEpisode, status: SloStatus, nowMs: number): AlertEvent {
  return {
    kind: 'resolved',
    episode: open,
    previousLevel: open.notifiedLevel,
    level: open.level,
    status,
    atMs: nowMs,
    durationMs: nowMs - open.startedAtMs,
    budgetSpent: budgetSpentSince(open, status),
  };
}

/**
 * Alertmanager's rules for one SLO, as a pure function of the open episode and a new status: notify when
 * the alert starts firing, when it rises above what was announced, again after `repeatIntervalMs` while it
 * fires, and once when it resolves. Any other evaluation changes nothing anyone hears. `burn` is where the
 * burn that opens an episode began, when it was seen before the alert fired.
 */
export function transition(
  open: AlertEpisode | undefined,
  status: SloStatus,
  nowMs: number,
  repeatIntervalMs: number,
  burn?: BurnStart,
): Transition {
  const level = alertLevel(status);
  if (!open) {
    if (level === 'ok') return { episode: undefined, event: undefined };
    const episode: AlertEpisode = {
      slo: status.name,
      service: status.service,
      id: `${status.name}-${nowMs}`,
      level,
      notifiedLevel: level,
      startedAtMs: nowMs,
      lastNotifiedAtMs: nowMs,
      badEventsAtStart: status.budget.consumed,
      burnStartedAtMs: burn?.startedAtMs ?? nowMs,
      badEventsAtBurnStart: burn?.badEventsBefore ?? status.budget.consumed,
      severity: severityOf(level),
      escalations: [],
      peakBurnRate: peakRateOf(status),
    };
    return { episode, event: { kind: 'firing', episode, previousLevel: 'ok', level, status, atMs: nowMs } };
  }
  if (level === 'ok') return { episode: undefined, event: resolution(open, status, nowMs) };
  const escalated = rank(level) > rank(open.notifiedLevel);
  const due = nowMs - open.lastNotifiedAtMs >= repeatIntervalMs;
  const current = tracked(open, level, status, nowMs);
  if (!escalated && !due) return { episode: { ...current, level }, event: undefined };
  const episode: AlertEpisode = { ...current, level, notifiedLevel: level, lastNotifiedAtMs: nowMs };
  return {
    episode,
    event: {
      kind: escalated ? 'escalated' : 'repeat',
      episode,
      previousLevel: open.notifiedLevel,
      level,
      status,
      atMs: nowMs,
    },
  };
}
