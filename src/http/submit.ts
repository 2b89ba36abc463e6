import type { BatchAggregate } from '../ingest/aggregate.js';
import { BatchTooLargeError, type IngestPipeline, QueueFullError } from '../ingest/pipeline.js';
import { HttpError } from './errors.js';

/**
 * Hands a batch to the pipeline: a full write queue becomes 503 with Retry-After (never unbounded memory), a
 * batch larger than the queue itself 413 with how to split it. Storage faults answer 503 (errors.ts).
 */
export async function submitBatch(pipeline: IngestPipeline, batch: BatchAggregate): Promise<void> {
  try {
    await pipeline.submit(batch);
  } catch (error) {
    if (error instanceof QueueFullError) {
      throw new HttpError(503, 'overloaded', error.message, undefined, {
        'retry-after': String(error.retryAfterSeconds),
      });
    }
    if (error instanceof BatchTooLargeError)
      throw new HttpError(413, 'batch_too_large', error.message, 'body');
    throw error;
  }
}
