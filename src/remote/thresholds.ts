import type { SloRegistry } from '../definitions/registry.js';
import type { SeriesKey } from '../model/series.js';
import { indicatorsOf } from '../model/slo.js';
import { DURATION_LADDER_US } from './counters.js';

/** The latency bounds a collector's batches count exactly: the SLOs' thresholds and the chart ladder. */
export function collectorThresholdsUs(declared: readonly number[]): number[] {
  return [...new Set([...declared, ...DURATION_LADDER_US])].sort((a, b) => a - b);
}

const withLadder = new WeakMap<SloRegistry, SloRegistry>();

/**
 * The registry as a collector's ingest reads it: the same SLOs, with the ladder among the latency thresholds,
 * so every bucket bound is counted exactly (made once per definition set).
 */
export function collectorRegistry(registry: SloRegistry): SloRegistry {
  let found = withLadder.get(registry);
  if (!found) {
    found = Object.create(registry, {
      thresholdsUs: { value: collectorThresholdsUs(registry.thresholdsUs) },
    }) as SloRegistry;
    withLadder.set(registry, found);
  }
  return found;
}

const byKind = new WeakMap<SloRegistry, Map<string, number[]>>();

/** The latency thresholds (µs) the SLOs reading a kind and service declare: the bucket bounds of its series. */
export function declaredThresholds(registry: SloRegistry, key: SeriesKey): readonly number[] {
  let thresholds = byKind.get(registry);
  if (!thresholds) {
    thresholds = new Map();
    for (const definition of registry.definitions) {
      for (const { good, select, source } of indicatorsOf(definition)) {
        if (good.kind !== 'latency') continue;
        const id = `${source}\u0000${select.service ?? definition.service}`;
        thresholds.set(id, [...(thresholds.get(id) ?? []), good.thresholdUs]);
      }
    }
    byKind.set(registry, thresholds);
  }
  return thresholds.get(`${key.kind}\u0000${key.service}`) ?? [];
}
