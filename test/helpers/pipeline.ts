import { DEFAULT_CARDINALITY_LIMITS } from '../../src/config/cardinality.js';
import { SloRegistry } from '../../src/definitions/registry.js';
import { SeriesLimiter } from '../../src/ingest/cardinality.js';
import { IngestPipeline } from '../../src/ingest/pipeline.js';
import { BucketStore } from '../../src/store/buckets.js';
import { openDatabase } from '../../src/store/database.js';

/** An in-memory store, and the requests stored per service. */
export function memoryStore() {
  const db = openDatabase(':memory:');
  const buckets = new BucketStore(db, 3);
  const total = (service: string) =>
    (
      db
        .prepare(
          'SELECT coalesce(sum(total), 0) AS n FROM minute_buckets JOIN series ON series.id = series_id WHERE service = ?',
        )
        .get(service) as { n: number }
    ).n;
  return { db, buckets, total };
}

/** A pipeline as the service wires it: any time accepted, the default series caps, no SLOs. */
export function pipelineOf(buckets: BucketStore, maxQueued: number): IngestPipeline {
  const limiter = new SeriesLimiter(
    DEFAULT_CARDINALITY_LIMITS,
    { service: () => false, source: () => false, operation: () => false },
    [],
  );
  return new IngestPipeline(
    buckets,
    { registry: new SloRegistry([]) },
    maxQueued,
    { retentionMs: 400 * 86_400_000, maxSkewMs: 300_000 },
    limiter,
  );
}
