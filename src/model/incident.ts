import type { ChangeType } from './gate.js';
import type { Ownership } from './slo.js';

/** How loud an alert got: a page wakes someone, a ticket waits for working hours. */
export type Severity = 'page' | 'ticket';

/** A rise of an episode's alert to a higher severity. */
export interface Escalation {
  severity: Severity;
  atMs: number;
}

/**
 * One SLO's alert episode as the history keeps it, from the start of the burn to its resolution. Kept after it
 * resolves, for the hour-bucket retention.
 */
export interface IncidentEpisode {
  /** The alert episode's id (chat thread key, Alertmanager identity). */
  id: string;
  slo: string;
  service: string;
  /** Highest severity reached. */
  severity: Severity;
  /** First evaluation whose fastest tier's short window burned above 1× (detection when none was seen). */
  burnStartedAtMs: number;
  /** First tier firing: the alert opened. */
  detectedAtMs: number;
  escalations: Escalation[];
  /** Null while open. */
  resolvedAtMs: number | null;
  /** Highest burn rate of the fastest tier's long window seen during the episode (null: no data). */
  peakBurnRate: number | null;
  /** Share of the SLO's whole error budget spent from the burn start (0..1; null without valid events). */
  budgetConsumed: number | null;
}

/** Overlapping episodes of one service: one incident, from the first burn start to the last resolution. */
export interface ServiceIncident {
  /** The id of its first episode. */
  id: string;
  service: string;
  startedAtMs: number;
  detectedAtMs: number;
  resolvedAtMs: number | null;
  severity: Severity;
  peakBurnRate: number | null;
  /** The most any one of its SLOs lost (budgets of different SLOs do not add up). */
  budgetConsumed: number | null;
  postmortemRequired: boolean;
  episodes: IncidentEpisode[];
}

/** A release as the delivery figures read it. */
export interface Release {
  service: string;
  /** '' when the caller named none. */
  environment: string;
  deployedAtMs: number;
  changeType: ChangeType;
  /** When the change was committed, if CI said: lead time is deployment minus commit. */
  commitAtMs: number | null;
}

/** What a service's policy says about its incidents and deployments, every default filled in. */
export interface IncidentPolicy extends Ownership {
  /** Share of the budget (0..1) an incident spends that calls for a postmortem. */
  postmortemThreshold: number;
  /** How soon after a deployment an incident of its service marks it failed. */
  failureWindowMs: number;
}
