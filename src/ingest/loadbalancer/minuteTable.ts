import { BIN_COUNT, binOf } from '../../model/histogram.js';
import type { BucketDelta, SeriesDelta, SeriesKey } from '../../model/series.js';
import type { BatchAggregate } from '../aggregate.js';

/**
 * Rows held before they are handed to the batch: 4,096 rows of ~1.5 KB (one count per latency bin) bound the
 * table to ~6 MB whatever the file holds, allocated at once (zeroed pages take no memory until a row is used).
 * A 50,000-line commit of the bench's file fills ~2,700.
 */
const MAX_ROWS = 4096;

/** Series (names as the lines give them) the table keeps at most. */
const MAX_SLOTS = 10_000;

/** Whole-millisecond durations up to a minute have their bin kept (120 KB). */
const MS_BINS_KEPT = 60_000;

/** A series as the table counts it: its rows by minute, the last one used kept at hand. */
interface Slot {
  key: SeriesKey;
  /** Counted by the batch itself: the series has counting rules, which read each line's status and agent. */
  byBatch: boolean;
  minute: number;
  row: number;
  rows: Map<number, number>;
  firstSeenMs: number;
  lastSeenMs: number;
}

/**
 * An import's per-series, per-minute sums in one typed array (`sloguard import`, issue #23): a line adds to
 * its row, and no object is made per line or per minute until the rows are handed to the batch as the
 * BucketDeltas it would have counted (`flushInto`, before each commit). The batch's own maps lived from a
 * line to its commit: the garbage collector copied them into the old generation, whose fresh pages the
 * kernel zeroed (30% of a 1M-line import's CPU, `perf record`). Series with counting rules are counted by
 * the batch as before.
 */
export class MinuteTable {
  private readonly thresholdsUs: readonly number[];
  /** Per row: total, errors, one count per threshold, one per latency bin. */
  private readonly width: number;
  private readonly binsAt: number;
  private readonly counts: Uint32Array;
  /** Per row: the lowest and highest bin counted, so a flush reads only those. */
  private readonly binRange = new Int32Array(MAX_ROWS * 2);
  private rowCount = 0;
  private readonly slots: Slot[] = [];
  private readonly byService = new Map<string, Map<string, Map<string, Slot>>>();
  /** The bin of each whole-millisecond duration met (-1: not yet): logs' usual resolution, and binOf takes a logarithm. */
  private readonly binOfMs = new Int16Array(MS_BINS_KEPT + 1).fill(-1);
  /** Lines counted since the last flush. */
  observations = 0;

  /** Series the table holds now (at most MAX_SLOTS). */
  get seriesHeld(): number {
    return this.slots.length;
  }

  constructor(
    private readonly source: string,
    thresholdsUs: readonly number[],
  ) {
    this.thresholdsUs = thresholdsUs;
    this.binsAt = 2 + thresholdsUs.length;
    this.width = this.binsAt + BIN_COUNT;
    this.counts = new Uint32Array(MAX_ROWS * this.width);
  }

  /**
   * Counts a line (its time already admitted by the batch) unless its series is one the batch counts: then
   * answers false and the caller counts it there. Throws LabelRejected for a name the batch refuses.
   */
  count(
    batch: BatchAggregate,
    service: string,
    operation: string,
    method: string,
    timeMs: number,
    error: boolean,
    durationUs: number,
  ): boolean {
    const slot = this.slotOf(batch, service, operation, method);
    if (slot.byBatch) return false;
    const minute = Math.floor(timeMs / 60_000);
    if (minute !== slot.minute) this.moveTo(batch, slot, minute);
    if (timeMs > slot.lastSeenMs) slot.lastSeenMs = timeMs;
    if (timeMs < slot.firstSeenMs) slot.firstSeenMs = timeMs;
    const { counts, thresholdsUs } = this;
    const at = slot.row * this.width;
    counts[at]! += 1;
    if (error) counts[at + 1]! += 1;
    for (let i = 0; i < thresholdsUs.length; i++)
      if (durationUs <= thresholdsUs[i]!) counts[at + 2 + i]! += 1;
    const ms = durationUs / 1000;
    let bin: number;
    if (ms <= MS_BINS_KEPT && ms === Math.floor(ms)) {
      bin = this.binOfMs[ms]!;
      if (bin < 0) bin = this.binOfMs[ms] = binOf(durationUs);
    } else bin = binOf(durationUs);
    counts[at + this.binsAt + bin]! += 1;
    const range = slot.row * 2;
    if (bin < this.binRange[range]!) this.binRange[range] = bin;
    if (bin > this.binRange[range + 1]!) this.binRange[range + 1] = bin;
    this.observations += 1;
    return true;
  }

  private slotOf(batch: BatchAggregate, service: string, operation: string, method: string): Slot {
    let byOperation = this.byService.get(service);
    if (!byOperation) {
      byOperation = new Map();
      this.byService.set(service, byOperation);
    }
    let byMethod = byOperation.get(operation);
    if (!byMethod) {
      byMethod = new Map();
      byOperation.set(operation, byMethod);
    }
    let slot = byMethod.get(method);
    if (!slot && this.slots.length >= MAX_SLOTS) {
      // A file of ever new names (routes, methods) holds no more than this: the rows go to the batch (whose
      // series caps apply at its commit) and the table starts again.
      this.flushInto(batch);
      this.slots.length = 0;
      this.byService.clear();
      return this.slotOf(batch, service, operation, method);
    }
    if (!slot) {
      // The batch checks (and folds) the labels once per series, as it does for every line it counts.
      const series = batch.seriesFor('loadbalancer', this.source, service, operation, method);
      slot = {
        key: series.key,
        byBatch: series.rules.length > 0,
        minute: -1,
        row: -1,
        rows: new Map(),
        firstSeenMs: Number.POSITIVE_INFINITY,
        lastSeenMs: 0,
      };
      byMethod.set(method, slot);
      this.slots.push(slot);
    }
    return slot;
  }

  /** Points the slot at its row for `minute`, a new one when it has none. */
  private moveTo(batch: BatchAggregate, slot: Slot, minute: number): void {
    let row = slot.rows.get(minute);
    if (row === undefined) {
      if (this.rowCount >= MAX_ROWS) this.flushInto(batch);
      row = this.rowCount++;
      this.binRange[row * 2] = BIN_COUNT;
      this.binRange[row * 2 + 1] = -1;
      slot.rows.set(minute, row);
    }
    slot.minute = minute;
    slot.row = row;
  }

  /** Hands every row to the batch as the buckets it would have counted, and starts empty. */
  flushInto(batch: BatchAggregate): void {
    const series = new Map<string, SeriesDelta>();
    for (const [index, slot] of this.slots.entries()) {
      if (slot.rows.size === 0) continue;
      const minutes = new Map<number, BucketDelta>();
      for (const [minute, row] of slot.rows) minutes.set(minute, this.deltaOf(row));
      const { key, firstSeenMs, lastSeenMs } = slot;
      series.set(String(index), { key, firstSeenMs, lastSeenMs, minutes, rules: [] });
      slot.rows.clear();
      slot.minute = -1;
      slot.firstSeenMs = Number.POSITIVE_INFINITY;
      slot.lastSeenMs = 0;
    }
    batch.mergeSeries(series, this.observations, true);
    this.counts.fill(0, 0, this.rowCount * this.width);
    this.rowCount = 0;
    this.observations = 0;
  }

  private deltaOf(row: number): BucketDelta {
    const { counts } = this;
    const at = row * this.width;
    const thresholds = new Map<number, number>();
    for (let i = 0; i < this.thresholdsUs.length; i++)
      thresholds.set(this.thresholdsUs[i]!, counts[at + 2 + i]!);
    const histogram = new Map<number, number>();
    for (let bin = this.binRange[row * 2]!; bin <= this.binRange[row * 2 + 1]!; bin++) {
      const count = counts[at + this.binsAt + bin]!;
      if (count > 0) histogram.set(bin, count);
    }
    return { total: counts[at]!, errors: counts[at + 1]!, histogram, thresholds, rules: new Map() };
  }
}
