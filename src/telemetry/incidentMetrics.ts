import client, { type Registry } from 'prom-client';
import { DEFAULT_RANGE_MS, type IncidentHistory } from '../alert/history.js';
import type { CurrentRegistry } from '../definitions/registry.js';

/** Environments of one service `sloguard_change_failure_ratio` shows at most (the most deployed): names come from callers. */
const MAX_ENVIRONMENTS = 10;

/**
 * The incident history's gauges (docs/incidents.md), read at scrape time: open incidents, MTTR per service over
 * its longest SLO window, and the change failure rate per service and environment over 28 days. Services are
 * those with SLOs, so the label sets stay bounded by the definitions.
 */
export function registerIncidentGauges(
  registry: Registry,
  history: IncidentHistory,
  definitions: CurrentRegistry,
): void {
  const services = () => [...definitions.registry.byService.keys()];
  new client.Gauge({
    name: 'sloguard_incidents_open',
    help: 'Service incidents (overlapping alert episodes of one service) not yet resolved.',
    labelNames: ['service'],
    registers: [registry],
    collect() {
      this.reset();
      const nowMs = Date.now();
      const open = history.openIncidents(nowMs - DEFAULT_RANGE_MS, nowMs + 1);
      for (const service of services()) this.set({ service }, open.get(service) ?? 0);
    },
  });
  new client.Gauge({
    name: 'sloguard_service_mttr_seconds',
    help: "Mean time from detection to resolution of the service's incidents over its longest SLO window.",
    labelNames: ['service'],
    registers: [registry],
    collect() {
      this.reset();
      const nowMs = Date.now();
      for (const service of services()) {
        const { mttrSeconds } = history.reliability(service, nowMs - history.defaultRangeMs(service), nowMs);
        if (mttrSeconds.fromDetection !== null) this.set({ service }, mttrSeconds.fromDetection);
      }
    },
  });
  new client.Gauge({
    name: 'sloguard_change_failure_ratio',
    help: 'Deployments of the last 28 days followed by an incident of their service or by a rollback, of all deployments.',
    labelNames: ['service', 'environment'],
    registers: [registry],
    collect() {
      this.reset();
      const nowMs = Date.now();
      const figures = history.delivery({ fromMs: nowMs - DEFAULT_RANGE_MS, toMs: nowMs, nowMs });
      const known = new Set(services());
      const shown = new Map<string, number>();
      for (const f of [...figures].sort((a, b) => b.deployments - a.deployments)) {
        const count = shown.get(f.service) ?? 0;
        if (!known.has(f.service) || count >= MAX_ENVIRONMENTS || f.changeFailureRate === null) continue;
        shown.set(f.service, count + 1);
        this.set({ service: f.service, environment: f.environment }, f.changeFailureRate);
      }
    },
  });
}
