import type { Escalation, Severity } from './incident.js';

/**
 * What one SLO's alert says, lowest to highest. One alert per SLO carries the highest: a page (critical)
 * suppresses the ticket (warning) of the same SLO, and a burning budget outranks a spent one.
 */
export const ALERT_LEVELS = ['ok', 'no-data', 'exhausted', 'warning', 'critical'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** The open episode of one SLO's alert, kept across restarts. */
export interface AlertEpisode {
  slo: string;
  service: string;
  /** Stable for the episode: chat thread key, Alertmanager identity. */
  id: string;
  level: AlertLevel;
  /** The level last announced; a rise above it is an escalation. */
  notifiedLevel: AlertLevel;
  startedAtMs: number;
  lastNotifiedAtMs: number;
  /** Bad events in the SLO window when the episode began, to report what it cost. */
  badEventsAtStart: number;
  /*
   * The incident history's fields (issue 19); episodes stored by older versions lack them, and then the
   * burn counts from the alert's start.
   */
  /** First evaluation whose fastest tier's short window burned above 1× (before or when the alert opened). */
  burnStartedAtMs?: number;
  /** Bad events in the SLO window before the burn began: what the episode spent is counted from here. */
  badEventsAtBurnStart?: number;
  /** Highest severity reached, and each rise to it. */
  severity?: Severity;
  escalations?: Escalation[];
  /** Highest burn rate of the fastest tier's long window during the episode. */
  peakBurnRate?: number | null;
}
