import type { CurrentRegistry } from '../definitions/registry.js';
import { deliveryFigures } from '../evaluate/delivery.js';
import {
  episodeOutage,
  type ReliabilityFigures,
  reliabilityFigures,
  serviceIncidents,
} from '../evaluate/reliability.js';
import type { IncidentPolicy, ServiceIncident } from '../model/incident.js';
import type { Ownership } from '../model/slo.js';
import type { Deployment, DeploymentStore } from '../store/deployments.js';
import type { EpisodeQuery, IncidentStore } from '../store/incidents.js';

/** Deployments in the hour before an incident are its suspects; those up to an hour after it, its fixes. */
const SUSPECT_MS = 3_600_000;
/** Releases one delivery answer reads at most (newest first): years of a busy service stay one bounded read. */
const MAX_RELEASES = 10_000;
/** Deployments listed around one incident at most. */
const MAX_AROUND = 50;
/** A range with no SLO to take its window from: DORA's usual four weeks. */
export const DEFAULT_RANGE_MS = 28 * 86_400_000;

/** An incident with what it is read with: its runbook and owner, and the deployments around it. */
export interface IncidentReport extends ServiceIncident, Ownership {
  suspectedDeployments: Deployment[];
  followingDeployments: Deployment[];
}

export interface ServiceReliability extends ReliabilityFigures {
  service: string;
  fromMs: number;
  toMs: number;
  slos: Array<ReliabilityFigures & { name: string }>;
}

export interface HistoryParts {
  incidents: IncidentStore;
  deployments: Pick<DeploymentStore, 'list'>;
  /** The definition set in force (a reload swaps it). */
  definitions: CurrentRegistry;
  /** The service's incident policy (postmortem threshold, failure window, runbook, owner). */
  policyOf: (service: string) => IncidentPolicy;
}

/**
 * The incident history as the API, the CLI, `/metrics` and the weekly report read it: one place where the
 * stored episodes, the deployments and the definitions meet the pure figures of evaluate/.
 */
export class IncidentHistory {
  constructor(private readonly parts: HistoryParts) {}

  private threshold = (service: string) => this.parts.policyOf(service).postmortemThreshold;

  /** The service's default range: its longest SLO window (28 days without SLOs). */
  defaultRangeMs(service: string): number {
    const windows = (this.parts.definitions.registry.byService.get(service) ?? []).map((d) => d.windowMs);
    return windows.length === 0 ? DEFAULT_RANGE_MS : Math.max(...windows);
  }

  /** Service incidents overlapping the range, newest first; `slo` keeps those with an episode of it. */
  incidents(query: EpisodeQuery & { nowMs: number }): IncidentReport[] {
    const { slo, ...rest } = query;
    const grouped = serviceIncidents(this.parts.incidents.list(rest), this.threshold);
    return grouped
      .filter((incident) => slo === undefined || incident.episodes.some((e) => e.slo === slo))
      .map((incident) => this.report(incident, query.nowMs));
  }

  /**
   * Open service incidents per service overlapping the range. A gauge asks this at every scrape, so the
   * episodes are grouped once and no deployments are joined (`incidents` looks up two lists per incident).
   */
  openIncidents(fromMs: number, toMs: number): Map<string, number> {
    const open = new Map<string, number>();
    for (const incident of serviceIncidents(this.parts.incidents.list({ fromMs, toMs }), this.threshold))
      if (incident.resolvedAtMs === null) open.set(incident.service, (open.get(incident.service) ?? 0) + 1);
    return open;
  }

  private report(incident: ServiceIncident, nowMs: number): IncidentReport {
    const around = (fromMs: number, toMs: number) =>
      this.parts.deployments
        .list({ service: incident.service, fromMs, toMs, limit: MAX_AROUND })
        .sort((a, b) => a.deployedAtMs - b.deployedAtMs);
    const end = incident.resolvedAtMs ?? nowMs;
    return {
      ...incident,
      ...this.ownership(incident),
      suspectedDeployments: around(incident.startedAtMs - SUSPECT_MS, incident.startedAtMs),
      followingDeployments: around(incident.startedAtMs, end + SUSPECT_MS + 1),
    };
  }

  /** The runbook and owner of the first of its SLOs that names them, else its service's. */
  private ownership(incident: ServiceIncident): Ownership {
    const { byName } = this.parts.definitions.registry;
    const policy = this.parts.policyOf(incident.service);
    const definitions = incident.episodes.map((e) => byName.get(e.slo));
    return {
      runbook: definitions.find((d) => d?.runbook)?.runbook ?? policy.runbook,
      owner: definitions.find((d) => d?.owner)?.owner ?? policy.owner,
    };
  }

  /** MTTR, MTTF, MTBF, time to detect and spend of a service's incidents, and of each of its SLOs' episodes. */
  reliability(service: string, fromMs: number, toMs: number): ServiceReliability {
    const episodes = this.parts.incidents.list({ service, fromMs, toMs });
    const threshold = this.threshold(service);
    const incidents = serviceIncidents(episodes, () => threshold);
    const names = new Set([
      ...(this.parts.definitions.registry.byService.get(service) ?? []).map((d) => d.name),
      ...episodes.map((e) => e.slo),
    ]);
    return {
      service,
      fromMs,
      toMs,
      ...reliabilityFigures(
        incidents.map((i) => ({ ...i })),
        fromMs,
        toMs,
      ),
      slos: [...names].sort().map((name) => ({
        name,
        ...reliabilityFigures(
          episodes.filter((e) => e.slo === name).map((e) => episodeOutage(e, threshold)),
          fromMs,
          toMs,
        ),
      })),
    };
  }

  /** DORA's four keys per service and environment over [fromMs, toMs); releases up to now find rollbacks. */
  delivery(query: { service?: string; environment?: string; fromMs: number; toMs: number; nowMs: number }) {
    const releases = this.parts.deployments
      .list({
        ...(query.service !== undefined && { service: query.service }),
        fromMs: query.fromMs,
        toMs: Math.max(query.toMs, query.nowMs) + 1,
        limit: MAX_RELEASES,
      })
      .filter((r) => query.environment === undefined || r.environment === query.environment);
    const incidents = serviceIncidents(
      this.parts.incidents.list({
        ...(query.service !== undefined && { service: query.service }),
        fromMs: query.fromMs,
        toMs: Math.max(query.toMs, query.nowMs) + 1,
      }),
      this.threshold,
    );
    return deliveryFigures(
      releases,
      incidents,
      query.fromMs,
      query.toMs,
      (service) => this.parts.policyOf(service).failureWindowMs,
    );
  }

  /** The numbers of one service's report (CLI `sloguard report`, the weekly report): the same as the API's. */
  serviceReport(service: string, fromMs: number, toMs: number, nowMs: number) {
    return {
      reliability: this.reliability(service, fromMs, toMs),
      delivery: this.delivery({ service, fromMs, toMs, nowMs }),
      incidents: this.incidents({ service, fromMs, toMs, nowMs }),
    };
  }
}
