import type { IncidentEpisode, ServiceIncident, Severity } from '../model/incident.js';

/**
 * Reliability figures from the incident history, as plain arrays in and numbers out (docs/incidents.md): no
 * store, no clock. Times are epoch milliseconds; the figures are seconds.
 */

/** The SRE Workbook's example policy: an incident that spent 20% of the budget or more needs a postmortem. */
export const DEFAULT_POSTMORTEM_THRESHOLD = 0.2;

const SEVERITY_RANK: Record<Severity, number> = { ticket: 0, page: 1 };

/** The larger of two figures that may be missing. */
function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.max(a, b);
}

/** Whether an incident's spend calls for a postmortem under a threshold (a share of the budget). */
export const needsPostmortem = (budgetConsumed: number | null, threshold: number): boolean =>
  budgetConsumed !== null && budgetConsumed >= threshold;

/**
 * Overlapping episodes of one service as one incident each: an episode that starts its burn before the
 * incident so far resolved (or while it is open) joins it. Newest incident first.
 */
export function serviceIncidents(
  episodes: readonly IncidentEpisode[],
  postmortemThreshold: (service: string) => number,
): ServiceIncident[] {
  const sorted = [...episodes].sort(
    (a, b) => a.service.localeCompare(b.service) || a.burnStartedAtMs - b.burnStartedAtMs,
  );
  const incidents: ServiceIncident[] = [];
  let current: ServiceIncident | undefined;
  for (const episode of sorted) {
    const open = current?.resolvedAtMs === null;
    if (
      current?.service === episode.service &&
      (open || episode.burnStartedAtMs <= (current.resolvedAtMs ?? 0))
    ) {
      current.episodes.push(episode);
      current.detectedAtMs = Math.min(current.detectedAtMs, episode.detectedAtMs);
      // Open while any of its episodes is.
      current.resolvedAtMs =
        open || episode.resolvedAtMs === null ? null : Math.max(current.resolvedAtMs!, episode.resolvedAtMs);
      if (SEVERITY_RANK[episode.severity] > SEVERITY_RANK[current.severity])
        current.severity = episode.severity;
      current.peakBurnRate = maxOf(current.peakBurnRate, episode.peakBurnRate);
      current.budgetConsumed = maxOf(current.budgetConsumed, episode.budgetConsumed);
      continue;
    }
    current = {
      id: episode.id,
      service: episode.service,
      startedAtMs: episode.burnStartedAtMs,
      detectedAtMs: episode.detectedAtMs,
      resolvedAtMs: episode.resolvedAtMs,
      severity: episode.severity,
      peakBurnRate: episode.peakBurnRate,
      budgetConsumed: episode.budgetConsumed,
      postmortemRequired: false,
      episodes: [episode],
    };
    incidents.push(current);
  }
  for (const incident of incidents) {
    incident.postmortemRequired = needsPostmortem(
      incident.budgetConsumed,
      postmortemThreshold(incident.service),
    );
  }
  return incidents.sort((a, b) => b.startedAtMs - a.startedAtMs || a.id.localeCompare(b.id));
}

/** What the figures read of an incident (or of one SLO's episode). */
export interface Outage {
  startedAtMs: number;
  detectedAtMs: number;
  resolvedAtMs: number | null;
  budgetConsumed: number | null;
  postmortemRequired: boolean;
}

export interface ReliabilityFigures {
  incidentCount: number;
  /** Mean time to restore, from detection and from the start of the burn (resolved incidents only). */
  mttrSeconds: { fromDetection: number | null; fromStart: number | null };
  /** Mean time to failure: the range's time outside incidents per incident. */
  mttfSeconds: number | null;
  /** Mean time between failures: the range per incident (MTTF + the mean time in incident). */
  mtbfSeconds: number | null;
  meanTimeToDetectSeconds: number | null;
  budgetConsumedPerIncident: number | null;
  postmortemsRequired: number;
}

const mean = (values: readonly number[]): number | null =>
  values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;

const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

/** The incident outage of an SLO's own episode: the episode as if it were the whole incident. */
export function episodeOutage(episode: IncidentEpisode, postmortemThreshold: number): Outage {
  return {
    startedAtMs: episode.burnStartedAtMs,
    detectedAtMs: episode.detectedAtMs,
    resolvedAtMs: episode.resolvedAtMs,
    budgetConsumed: episode.budgetConsumed,
    postmortemRequired: needsPostmortem(episode.budgetConsumed, postmortemThreshold),
  };
}

/**
 * MTTR, MTTF, MTBF, time to detect and spend over the outages that started in [fromMs, toMs). An outage still
 * open counts as down until `toMs` (the range's end, or now).
 */
export function reliabilityFigures(
  outages: readonly Outage[],
  fromMs: number,
  toMs: number,
): ReliabilityFigures {
  const counted = outages.filter((o) => o.startedAtMs >= fromMs && o.startedAtMs < toMs);
  const resolved = counted.filter((o) => o.resolvedAtMs !== null) as Array<Outage & { resolvedAtMs: number }>;
  const n = counted.length;
  const rangeMs = toMs - fromMs;
  const downMs = counted.reduce((sum, o) => sum + Math.min(o.resolvedAtMs ?? toMs, toMs) - o.startedAtMs, 0);
  const spends = counted.map((o) => o.budgetConsumed).filter((b): b is number => b !== null);
  return {
    incidentCount: n,
    mttrSeconds: {
      fromDetection: seconds(mean(resolved.map((o) => o.resolvedAtMs - o.detectedAtMs))),
      fromStart: seconds(mean(resolved.map((o) => o.resolvedAtMs - o.startedAtMs))),
    },
    mttfSeconds: n === 0 ? null : (rangeMs - downMs) / n / 1000,
    mtbfSeconds: n === 0 ? null : rangeMs / n / 1000,
    meanTimeToDetectSeconds: seconds(mean(counted.map((o) => o.detectedAtMs - o.startedAtMs))),
    budgetConsumedPerIncident: mean(spends),
    postmortemsRequired: counted.filter((o) => o.postmortemRequired).length,
  };
}
