import type { CurrentRegistry } from '../definitions/registry.js';
import { BatchedCommit } from '../store/batchedCommit.js';
import type { BucketStore } from '../store/buckets.js';
import { isStorageFault, type StorageWatch } from '../store/faults.js';
import { BatchAggregate } from './aggregate.js';
import type { SeriesLimiter } from './cardinality.js';
import { acceptedRange, type TimePolicy } from './timeRange.js';

/** The write queue is full: the caller should answer 503 with Retry-After. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  readonly retryAfterSeconds = 1;
}

/** One batch holds more observations than the queue ever may: retrying cannot help, splitting it does. */
export class BatchTooLargeError extends Error {
  override name = 'BatchTooLargeError';
  constructor(
    readonly observations: number,
    readonly maxObservations: number,
  ) {
    super(
      `the batch holds ${observations} observations, more than the write queue bound of ${maxObservations} (SLOGUARD_MAX_QUEUED_OBSERVATIONS); split it into requests of at most ${maxObservations} lines or spans`,
    );
  }
}

/**
 * Commits follow each other at least this far apart. A commit's cost follows the rows it touches, and the
 * batches of a busy stream (span reporters, pushed logs) touch the same few series and minutes: gathered over
 * a few milliseconds, several requests' batches cost one commit. A batch after a quiet spell commits at once.
 */
const COMMIT_SPACING_MS = 5;

/**
 * A backlog of batches (after a stall, or a burst from many reporters) commits in transactions of about this
 * long each, whole batches in each, the event loop turning between them: a gate answer waits for one slice at
 * most, not for the whole backlog.
 */
const COMMIT_SLICE_MS = 1;

/** No access-log line that counts is shorter: reading this many bytes per observation keeps a batch in bounds. */
const MIN_LINE_BYTES = 16;

/**
 * Batches are written by group commit (BatchedCommit): a submit resolves only after its data is committed, each
 * batch whole in one transaction (a crash never leaves half of an acknowledged batch counted);
 * past `maxQueued` observations waiting, new batches are refused rather than held in memory, and a batch
 * larger than `maxQueued` is refused for good (BatchTooLargeError). When a group fails for anything but the
 * storage, each batch is written again on its own, so one bad batch fails only its own submitter. Every batch
 * passes the series caps (SeriesLimiter) on its way to the store, whichever source it came from.
 */
export class IngestPipeline {
  private readonly writer = new BatchedCommit<BatchAggregate>(
    (batches) => this.commit(batches.length === 1 ? batches[0]! : BatchAggregate.combine(batches)),
    // A full disk fails every batch alike; anything else may be one batch's fault.
    (error) => !isStorageFault(error),
    COMMIT_SPACING_MS,
    COMMIT_SLICE_MS,
  );

  constructor(
    /** The buckets, or a collector's counters (src/remote): whatever keeps a committed batch. */
    private readonly buckets: Pick<BucketStore, 'commit'>,
    private readonly definitions: CurrentRegistry,
    readonly maxQueued: number,
    private readonly times: TimePolicy,
    private readonly limiter: SeriesLimiter,
    private readonly storage?: StorageWatch,
  ) {}

  /**
   * A batch that counts the latency thresholds and good/bad/valid rules the loaded SLOs declare and takes the
   * times accepted now.
   */
  newBatch(nowMs = Date.now()): BatchAggregate {
    const { registry } = this.definitions;
    return new BatchAggregate(
      registry.thresholdsUs,
      acceptedRange(this.times, nowMs),
      registry.countingRules,
    );
  }

  /** At most `bytes`, and few enough bytes of log lines that one batch of them fills at most half the queue. */
  chunkBytesAtMost(bytes: number): number {
    return Math.min(bytes, Math.floor(this.maxQueued / 2) * MIN_LINE_BYTES);
  }

  get queuedObservations(): number {
    return this.writer.waiting;
  }

  submit(batch: BatchAggregate): Promise<void> {
    if (batch.isEmpty) return Promise.resolve();
    if (batch.observations > this.maxQueued) {
      return Promise.reject(new BatchTooLargeError(batch.observations, this.maxQueued));
    }
    const queued = this.writer.waiting;
    if (queued + batch.observations > this.maxQueued) {
      return Promise.reject(new QueueFullError(`write queue full (${queued} observations waiting)`));
    }
    try {
      this.storage?.assertWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writer.submit(batch, batch.observations);
  }

  /** Writes everything pending now. */
  flush(): void {
    this.writer.flush();
  }

  /** Commits one batch through the series caps; a failed commit takes back the series it admitted. */
  private commit(batch: BatchAggregate): void {
    try {
      this.buckets.commit(this.limiter.fold(batch));
      this.limiter.committed();
    } catch (error) {
      this.limiter.rolledBack();
      throw error;
    }
  }
}
