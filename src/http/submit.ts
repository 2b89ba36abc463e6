import type { BatchAggregate } from '../ingest/aggregate.js';
import { type IngestPipeline, QueueFullError } from '../ingest/pipeline.js';
import { HttpError } from './errors.js';

/** Hands a batch to the pipeline; a full write queue becomes 503 with Retry-After, never unbounded memory. */
export async function submitBatch(pipeline: IngestPipeline, batch: BatchAggregate): Promise<void> {
  try {
    await pipeline.submit(batch);
  } catch (error) {
    if (error instanceof QueueFullError) {
      throw new HttpError(503, 'overloaded', error.message, undefined, {
        'retry-after': String(error.retryAfterSeconds),
      });
    }
    throw error;
  }
}
