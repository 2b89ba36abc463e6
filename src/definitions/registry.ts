import { indicatorsOf, type SloDefinition } from './slo.js';

/** The loaded SLOs, indexed the ways the pipeline asks for them. */
export class SloRegistry {
  readonly byName = new Map<string, SloDefinition>();
  readonly byService = new Map<string, SloDefinition[]>();
  /** Every latency threshold an SLO declares: ingest keeps an exact count at each. */
  readonly thresholdsUs: readonly number[];

  constructor(readonly definitions: readonly SloDefinition[]) {
    const thresholds = new Set<number>();
    for (const definition of definitions) {
      this.byName.set(definition.name, definition);
      const list = this.byService.get(definition.service) ?? [];
      list.push(definition);
      this.byService.set(definition.service, list);
      for (const { good } of indicatorsOf(definition))
        if (good.kind === 'latency') thresholds.add(good.thresholdUs);
    }
    this.thresholdsUs = [...thresholds].sort((a, b) => a - b);
  }

  /** Routes the SLOs of a service select: they double as route templates at ingest. */
  routesOf(service: string): string[] {
    const routes = this.definitions
      .flatMap((d) => indicatorsOf(d).filter((i) => (i.select.service ?? d.service) === service))
      .flatMap((indicator) => indicator.select.route ?? []);
    return [...new Set(routes)];
  }
}
