import { ALERT_LEVELS, type AlertEpisode, type AlertLevel } from '../model/alert.js';
import type { SloStatus } from '../model/status.js';

const rank = (level: AlertLevel) => ALERT_LEVELS.indexOf(level);

/** Page for a fast burn; everything else that fires is a ticket. */
export function severityOf(level: AlertLevel): 'page' | 'ticket' {
  return level === 'critical' ? 'page' : 'ticket';
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
  const { allowed, consumed } = status.budget;
  return {
    kind: 'resolved',
    episode: open,
    previousLevel: open.notifiedLevel,
    level: open.level,
    status,
    atMs: nowMs,
    durationMs: nowMs - open.startedAtMs,
    // Old failures leaving the window can make the difference negative: the episode spent nothing then.
    budgetSpent: allowed > 0 ? Math.max(0, consumed - open.badEventsAtStart) / allowed : null,
  };
}

/**
 * Alertmanager's rules for one SLO, as a pure function of the open episode and a new status: notify when
 * the alert starts firing, when it rises above what was announced, again after `repeatIntervalMs` while it
 * fires, and once when it resolves. Any other evaluation changes nothing anyone hears.
 */
export function transition(
  open: AlertEpisode | undefined,
  status: SloStatus,
  nowMs: number,
  repeatIntervalMs: number,
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
    };
    return { episode, event: { kind: 'firing', episode, previousLevel: 'ok', level, status, atMs: nowMs } };
  }
  if (level === 'ok') return { episode: undefined, event: resolution(open, status, nowMs) };
  const escalated = rank(level) > rank(open.notifiedLevel);
  const due = nowMs - open.lastNotifiedAtMs >= repeatIntervalMs;
  if (!escalated && !due) return { episode: { ...open, level }, event: undefined };
  const episode: AlertEpisode = { ...open, level, notifiedLevel: level, lastNotifiedAtMs: nowMs };
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
