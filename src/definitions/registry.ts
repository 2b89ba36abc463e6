import type { CountingRule } from './eventRules.js';
import { indicatorsOf, type SloDefinition } from './slo.js';

/** The loaded SLOs, indexed the ways the pipeline asks for them. */
export class SloRegistry {
  readonly byName = new Map<string, SloDefinition>();
  readonly byService = new Map<string, SloDefinition[]>();
  /** Every latency threshold an SLO declares: ingest keeps an exact count at each. */
  readonly thresholdsUs: readonly number[];
  /** Every good/bad/valid rule set an SLO declares, per kind and service: ingest counts each exactly. */
  readonly countingRules: readonly CountingRule[];

  constructor(readonly definitions: readonly SloDefinition[]) {
    const thresholds = new Set<number>();
    const rules = new Map<string, CountingRule>();
    for (const definition of definitions) {
      this.byName.set(definition.name, definition);
      const list = this.byService.get(definition.service) ?? [];
      list.push(definition);
      this.byService.set(definition.service, list);
      for (const indicator of indicatorsOf(definition)) {
        if (indicator.good.kind === 'latency') thresholds.add(indicator.good.thresholdUs);
        const { rules: declared, source } = indicator;
        if (!declared || source === 'prometheus') continue;
        const service = indicator.select.service ?? definition.service;
        const { id, ...eventRules } = declared;
        rules.set(`${source}\u0000${service}\u0000${id}`, { id, kind: source, service, rules: eventRules });
      }
    }
    this.thresholdsUs = [...thresholds].sort((a, b) => a - b);
    this.countingRules = [...rules.values()];
  }

  /** Routes the SLOs of a service select: they double as route templates at ingest. */
  routesOf(service: string): string[] {
    const routes = this.definitions
      .flatMap((d) => indicatorsOf(d).filter((i) => (i.select.service ?? d.service) === service))
      .flatMap((indicator) => indicator.select.route ?? []);
    return [...new Set(routes)];
  }
}
