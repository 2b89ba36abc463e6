import type { SloRegistry } from '../definitions/registry.js';
import type { BucketStore } from '../store/buckets.js';
import { BatchAggregate } from './aggregate.js';
import type { SeriesLimiter } from './cardinality.js';
import { acceptedRange, type TimePolicy } from './timeRange.js';

/** The write queue is full: the caller should answer 503 with Retry-After. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  readonly retryAfterSeconds = 1;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: batches submitted while a flush is pending are merged and written in one transaction, then
 * every submitter is answered. A submit resolves only after its data is committed; past `maxQueued`
 * observations waiting, new batches are refused rather than held in memory. Every batch passes the series
 * caps (SeriesLimiter) on its way to the store, whichever source it came from.
 */
export class IngestPipeline {
  private pending: BatchAggregate | undefined;
  private waiters: Waiter[] = [];
  private scheduled = false;

  constructor(
    private readonly buckets: BucketStore,
    private readonly registry: () => SloRegistry,
    private readonly maxQueued: number,
    private readonly times: TimePolicy,
    private readonly limiter: SeriesLimiter,
  ) {}

  /**
   * A batch that counts the latency thresholds and good/bad/valid rules the loaded SLOs declare and takes the
   * times accepted now.
   */
  newBatch(nowMs = Date.now()): BatchAggregate {
    const registry = this.registry();
    return new BatchAggregate(
      registry.thresholdsUs,
      acceptedRange(this.times, nowMs),
      registry.countingRules,
    );
  }

  get queuedObservations(): number {
    return this.pending?.observations ?? 0;
  }

  submit(batch: BatchAggregate): Promise<void> {
    if (batch.isEmpty) return Promise.resolve();
    if (this.queuedObservations + batch.observations > this.maxQueued) {
      return Promise.reject(
        new QueueFullError(`write queue full (${this.queuedObservations} observations waiting)`),
      );
    }
    if (this.pending) this.pending.merge(batch);
    else this.pending = batch;
    const committed = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return committed;
  }

  /** Writes everything pending now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = undefined;
    this.waiters = [];
    if (!batch) return;
    try {
      this.buckets.commit(this.limiter.fold(batch));
      this.limiter.committed();
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      this.limiter.rolledBack();
      for (const waiter of waiters) waiter.reject(error);
    }
  }
}
