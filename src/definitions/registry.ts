import type { CountingRule } from '../model/eventRules.js';
import { indicatorsOf, type SloDefinition } from '../model/slo.js';

/** The loaded SLOs, indexed the ways the pipeline asks for them. */
export class SloRegistry {
  readonly byName = new Map<string, SloDefinition>();
  readonly byService = new Map<string, SloDefinition[]>();
  /** Every latency threshold an SLO declares: ingest keeps an exact count at each. */
  readonly thresholdsUs: readonly number[];
  /** Every good/bad/valid rule set an SLO declares, per kind and service: ingest counts each exactly. */
  readonly countingRules: readonly CountingRule[];
  /** Every service an indicator selects, with the routes selected in it (none: all its routes). */
  readonly selectedRoutes = new Map<string, Set<string>>();

  constructor(readonly definitions: readonly SloDefinition[]) {
    const thresholds = new Set<number>();
    const rules = new Map<string, CountingRule>();
    for (const definition of definitions) {
      this.byName.set(definition.name, definition);
      const list = this.byService.get(definition.service) ?? [];
      list.push(definition);
      this.byService.set(definition.service, list);
      for (const indicator of indicatorsOf(definition)) {
        const { good, select, source, rules: declared } = indicator;
        if (good.kind === 'latency') thresholds.add(good.thresholdUs);
        const service = select.service ?? definition.service;
        const routes = this.selectedRoutes.get(service) ?? new Set();
        if (select.route !== undefined) routes.add(select.route);
        this.selectedRoutes.set(service, routes);
        if (!declared || source === 'prometheus') continue;
        const { id, ...eventRules } = declared;
        rules.set(`${source}\u0000${service}\u0000${id}`, { id, kind: source, service, rules: eventRules });
      }
    }
    this.thresholdsUs = [...thresholds].sort((a, b) => a - b);
    this.countingRules = [...rules.values()];
  }

  /** Routes the SLOs of a service select: they double as route templates at ingest. */
  routesOf(service: string): string[] {
    return [...(this.selectedRoutes.get(service) ?? [])];
  }
}

/** The SLOs in force, for parts that outlive a reload: read `registry` at each use, never keep it. */
export interface CurrentRegistry {
  readonly registry: SloRegistry;
}
