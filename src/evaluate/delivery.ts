import type { Release, ServiceIncident } from '../model/incident.js';

/**
 * DORA's four keys from what sloguard sees (docs/incidents.md): deployment frequency, lead time for changes,
 * change failure rate and time to restore service, per service and environment. Pure: plain arrays in.
 */

/** A deployment followed this soon by an incident of its service failed (DORA leaves the window to teams). */
export const DEFAULT_FAILURE_WINDOW_MS = 3_600_000;

const DAY_MS = 86_400_000;

export interface DeliveryFigures {
  service: string;
  environment: string;
  deployments: number;
  deploymentsPerDay: number;
  leadTimeSeconds: { median: number | null; p90: number | null; samples: number };
  changeFailureRate: number | null;
  failedDeployments: number;
  /** Median time from detection to resolution of the service's incidents that started in the range. */
  timeToRestoreSeconds: number | null;
}

/** The `p` quantile of sorted values, interpolated between neighbours (the median of 1, 2 is 1.5). */
export function quantile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const h = (sorted.length - 1) * p;
  const low = Math.floor(h);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (h - low) * (sorted[high]! - sorted[low]!);
}

/**
 * Whether a release failed: an incident of its service started within `failureWindowMs` after it, or the next
 * release of the same service and environment (`next`) rolled it back.
 */
export function releaseFailed(
  release: Release,
  next: Release | undefined,
  incidents: readonly ServiceIncident[],
  failureWindowMs: number,
): boolean {
  if (next?.changeType === 'rollback') return true;
  return incidents.some(
    (i) =>
      i.service === release.service &&
      i.startedAtMs >= release.deployedAtMs &&
      i.startedAtMs <= release.deployedAtMs + failureWindowMs,
  );
}

/**
 * The four keys of each service and environment with releases in [fromMs, toMs). `releases` may reach past
 * `toMs` (a rollback after the range still fails a release in it); `incidents` are every incident known.
 */
export function deliveryFigures(
  releases: readonly Release[],
  incidents: readonly ServiceIncident[],
  fromMs: number,
  toMs: number,
  failureWindowMs: (service: string) => number,
): DeliveryFigures[] {
  const groups = new Map<string, Release[]>();
  for (const release of [...releases].sort((a, b) => a.deployedAtMs - b.deployedAtMs)) {
    const key = `${release.service}\u0000${release.environment}`;
    const group = groups.get(key);
    if (group) group.push(release);
    else groups.set(key, [release]);
  }
  const figures: DeliveryFigures[] = [];
  for (const all of groups.values()) {
    const inRange = all.filter((r) => r.deployedAtMs >= fromMs && r.deployedAtMs < toMs);
    if (inRange.length === 0) continue;
    const { service, environment } = inRange[0]!;
    const window = failureWindowMs(service);
    const ofService = incidents.filter((i) => i.service === service);
    const failed = all.filter(
      (r, index) =>
        r.deployedAtMs >= fromMs &&
        r.deployedAtMs < toMs &&
        releaseFailed(r, all[index + 1], ofService, window),
    ).length;
    const leadTimes = inRange
      .filter((r) => r.commitAtMs !== null && r.commitAtMs <= r.deployedAtMs)
      .map((r) => (r.deployedAtMs - r.commitAtMs!) / 1000)
      .sort((a, b) => a - b);
    const restores = incidents
      .filter(
        (i) =>
          i.service === service && i.resolvedAtMs !== null && i.startedAtMs >= fromMs && i.startedAtMs < toMs,
      )
      .map((i) => (i.resolvedAtMs! - i.detectedAtMs) / 1000)
      .sort((a, b) => a - b);
    figures.push({
      service,
      environment,
      deployments: inRange.length,
      deploymentsPerDay: inRange.length / ((toMs - fromMs) / DAY_MS),
      leadTimeSeconds: {
        median: quantile(leadTimes, 0.5),
        p90: quantile(leadTimes, 0.9),
        samples: leadTimes.length,
      },
      changeFailureRate: failed / inRange.length,
      failedDeployments: failed,
      timeToRestoreSeconds: quantile(restores, 0.5),
    });
  }
  return figures.sort(
    (a, b) => a.service.localeCompare(b.service) || a.environment.localeCompare(b.environment),
  );
}
