import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DEFAULT_RANGE_MS, type IncidentHistory, type IncidentReport } from '../../alert/history.js';
import type { CurrentRegistry, SloRegistry } from '../../definitions/registry.js';
import type { DeliveryFigures } from '../../evaluate/delivery.js';
import type { ReliabilityFigures } from '../../evaluate/reliability.js';
import { acceptedRange, type TimePolicy } from '../../ingest/timeRange.js';
import type { IncidentEpisode } from '../../model/incident.js';
import { HttpError } from '../errors.js';
import {
  Delivery,
  DeliveryQuery,
  IncidentList,
  IncidentQuery,
  Reliability,
  ReliabilityQuery,
  ServiceName,
} from '../schemas/incidents.js';
import { isoTime, parseTimeParam } from '../time.js';
import { deploymentView } from '../views.js';

export interface IncidentParts {
  history: IncidentHistory;
  definitions: CurrentRegistry;
  times: TimePolicy;
}

/** How people name the SLO and its labels, from the loaded definitions (an SLO since removed has neither). */
const episodeView = (e: IncidentEpisode, registry: SloRegistry) => ({
  id: e.id,
  slo: e.slo,
  slo_display_name: registry.byName.get(e.slo)?.displayName ?? null,
  slo_labels: registry.byName.get(e.slo)?.labels ?? {},
  severity: e.severity,
  burn_started_at: isoTime(e.burnStartedAtMs)!,
  detected_at: isoTime(e.detectedAtMs)!,
  escalations: e.escalations.map((x) => ({ severity: x.severity, at: isoTime(x.atMs)! })),
  resolved_at: isoTime(e.resolvedAtMs),
  peak_burn_rate: e.peakBurnRate,
  budget_consumed: e.budgetConsumed,
});

/** An incident as the API shows it (the contract of docs/incidents.md). */
export const incidentView = (i: IncidentReport, registry: SloRegistry) => ({
  id: i.id,
  service: i.service,
  started_at: isoTime(i.startedAtMs)!,
  detected_at: isoTime(i.detectedAtMs)!,
  resolved_at: isoTime(i.resolvedAtMs),
  duration_seconds: i.resolvedAtMs === null ? null : (i.resolvedAtMs - i.startedAtMs) / 1000,
  severity: i.severity,
  peak_burn_rate: i.peakBurnRate,
  budget_consumed: i.budgetConsumed,
  postmortem_required: i.postmortemRequired,
  runbook: i.runbook,
  owner: i.owner,
  episodes: i.episodes.map((e) => episodeView(e, registry)),
  suspected_deployments: i.suspectedDeployments.map(deploymentView),
  following_deployments: i.followingDeployments.map(deploymentView),
});

const figuresView = (f: ReliabilityFigures) => ({
  incident_count: f.incidentCount,
  mttr_seconds: { from_detection: f.mttrSeconds.fromDetection, from_start: f.mttrSeconds.fromStart },
  mttf_seconds: f.mttfSeconds,
  mtbf_seconds: f.mtbfSeconds,
  mean_time_to_detect_seconds: f.meanTimeToDetectSeconds,
  budget_consumed_per_incident: f.budgetConsumedPerIncident,
  postmortems_required: f.postmortemsRequired,
});

const deliveryView = (d: DeliveryFigures) => ({
  service: d.service,
  environment: d.environment || null,
  deployments: d.deployments,
  deployments_per_day: d.deploymentsPerDay,
  lead_time_seconds: d.leadTimeSeconds,
  change_failure_rate: d.changeFailureRate,
  failed_deployments: d.failedDeployments,
  time_to_restore_seconds: d.timeToRestoreSeconds,
});

/** Incidents, reliability figures and DORA's four keys: reads of the incident history (alert/history.ts). */
const incidents: FastifyPluginAsyncTypebox<IncidentParts> = async (app, { history, definitions, times }) => {
  /** `from`/`to` within the retention; `to` defaults to now and `from` to `to` minus `defaultMs`. */
  const range = (query: { from?: string; to?: string }, defaultMs: number) => {
    const nowMs = Date.now();
    const accepted = acceptedRange(times, nowMs);
    const toMs = parseTimeParam('to', query.to, accepted) ?? nowMs;
    const fromMs =
      parseTimeParam('from', query.from, accepted) ?? Math.max(accepted.fromMs, toMs - defaultMs);
    if (fromMs >= toMs) throw new HttpError(400, 'invalid_query', 'from must be before to', 'from');
    return { fromMs, toMs, nowMs };
  };

  app.get(
    '/api/v1/incidents',
    { config: { access: 'read' }, schema: { querystring: IncidentQuery, response: IncidentList } },
    async (request) => {
      const { service, slo, limit = 50, offset = 0 } = request.query;
      const { fromMs, toMs, nowMs } = range(request.query, DEFAULT_RANGE_MS);
      const all = history.incidents({
        ...(service !== undefined && { service }),
        ...(slo !== undefined && { slo }),
        fromMs,
        toMs,
        nowMs,
      });
      const { registry } = definitions;
      return {
        incidents: all.slice(offset, offset + limit).map((i) => incidentView(i, registry)),
        total: all.length,
      };
    },
  );

  app.get(
    '/api/v1/services/:name/reliability',
    {
      config: { access: 'read' },
      schema: { params: ServiceName, querystring: ReliabilityQuery, response: Reliability },
    },
    async (request) => {
      const { name } = request.params;
      if (!definitions.registry.byService.has(name))
        throw new HttpError(404, 'not_found', `no SLO is defined for service "${name}"`, 'name');
      const { fromMs, toMs } = range(request.query, history.defaultRangeMs(name));
      const figures = history.reliability(name, fromMs, toMs);
      return {
        service: name,
        from: isoTime(fromMs)!,
        to: isoTime(toMs)!,
        ...figuresView(figures),
        slos: figures.slos.map((slo) => ({ name: slo.name, ...figuresView(slo) })),
      };
    },
  );

  app.get(
    '/api/v1/delivery',
    { config: { access: 'read' }, schema: { querystring: DeliveryQuery, response: Delivery } },
    async (request) => {
      const { service, environment } = request.query;
      const { fromMs, toMs, nowMs } = range(request.query, DEFAULT_RANGE_MS);
      const services = history.delivery({
        ...(service !== undefined && { service }),
        ...(environment !== undefined && { environment }),
        fromMs,
        toMs,
        nowMs,
      });
      return { from: isoTime(fromMs)!, to: isoTime(toMs)!, services: services.map(deliveryView) };
    },
  );
};
export default incidents;
