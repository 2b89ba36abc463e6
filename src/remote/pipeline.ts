import type { Config } from '../config/config.js';
import type { CurrentRegistry } from '../definitions/registry.js';
import type { SeriesLimiter } from '../ingest/cardinality.js';
import { IngestPipeline } from '../ingest/pipeline.js';
import type { TimePolicy } from '../ingest/timeRange.js';
import type { StorageWatch } from '../store/faults.js';
import type { RemoteWriteCollector } from './collector.js';
import { collectorRegistry } from './thresholds.js';

/**
 * The write pipeline of a collector: the same queue bound, time range and series caps as the store's, but
 * batches are committed to the counters, and count every bucket bound of the ladder exactly.
 */
export function collectorPipeline(
  parts: {
    config: Config;
    definitions: CurrentRegistry;
    times: TimePolicy;
    cardinality: SeriesLimiter;
    storage: StorageWatch;
  },
  collector: RemoteWriteCollector,
): IngestPipeline {
  const { definitions } = parts;
  return new IngestPipeline(
    collector,
    {
      get registry() {
        return collectorRegistry(definitions.registry);
      },
    },
    parts.config.maxQueuedObservations,
    parts.times,
    parts.cardinality,
    parts.storage,
  );
}
