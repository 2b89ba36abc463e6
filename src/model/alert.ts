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
}
