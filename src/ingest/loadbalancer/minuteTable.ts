import { BIN_COUNT, binOf, encodeCountsAt, encodeHistogramAt } from '../../model/histogram.js';
import {
  type BucketDelta,
  type RowSeries,
  type RowSums,
  type SeriesDelta,
  type SeriesKey,
  seriesKeyString,
} from '../../model/series.js';
import type { BatchAggregate } from '../aggregate.js';

/**
 * Rows held before they are handed to the batch: 4,096 rows of ~1.5 KB (one count per latency bin) bound the
 * table to ~6 MB whatever the file holds. A 50,000-line commit of the bench's file fills ~2,700.
 */
const MAX_ROWS = 4096;
/**
 * Rows a table starts with, doubled as they fill up to MAX_ROWS: an import with parsing threads holds a table
 * per thread and one for chunks summed ahead, and a chunk of the bench's file fills ~420 rows (#23).
 */
const FIRST_ROWS = 256;

/** Series (names as the lines give them) the table keeps at most. */
const MAX_SLOTS = 10_000;

/** Whole-millisecond durations up to a minute have their bin kept (120 KB). */
const MS_BINS_KEPT = 60_000;

/**
 * A table's rows taken out to be added to another's (`takeRows`, `addRows`): a chunk of an import summed on a
 * parsing thread, or on the importing thread ahead of its turn. The rows lie in one array, moved between
 * threads rather than cloned: as maps of BucketDeltas, the chunks in flight were promoted on the importing
 * thread and its heap grew by 60 MB (#23).
 */
export interface TakenRows {
  /** The rows' series, by index, with when each was seen. */
  series: Array<{ key: SeriesKey; firstSeenMs: number; lastSeenMs: number }>;
  /**
   * Per row: series index, minute, total, errors, each threshold's count, lowest and highest bin used, then
   * the counts of those bins. Float64: the minute of any accepted time is exact.
   */
  cells: Float64Array;
  /** Lines the rows count. */
  observations: number;
}

/** Cells of a taken row before its bins: series, minute, total, errors, lowest bin, highest bin. */
const TAKEN_HEADER_CELLS = 6;

/** A series as the table counts it: its rows by minute, the last one used kept at hand. */
interface Slot {
  key: SeriesKey;
  keyString: string;
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
 * its row, and no object is made per line or per minute. At each commit the rows are lent to the batch
 * (`lendRowsTo`) and the store encodes each minute and hour row straight from them; only a table full before
 * its batch hands its rows over as the BucketDeltas the batch would have counted (`flushInto`). The batch's
 * own maps lived from a line to its commit: the garbage collector copied them into the old generation, whose
 * fresh pages the kernel zeroed (30% of a 1M-line import's CPU, `perf record`); the commit's maps, one
 * histogram and thresholds map per row, were 10-16% of what was left. Series with counting rules are counted
 * by the batch as before.
 */
export class MinuteTable {
  private readonly thresholdsUs: readonly number[];
  /** Per row: total, errors, one count per threshold, one per latency bin. */
  private readonly width: number;
  private readonly binsAt: number;
  private counts: Uint32Array;
  /** Per row: the lowest and highest bin counted, so a flush reads only those. */
  private binRange = new Int32Array(FIRST_ROWS * 2);
  private rowCount = 0;
  private readonly slots: Slot[] = [];
  private readonly byService = new Map<string, Map<string, Map<string, Slot>>>();
  /** The bin of each whole-millisecond duration met (-1: not yet): logs' usual resolution, and binOf takes a logarithm. */
  private readonly binOfMs = new Int16Array(MS_BINS_KEPT + 1).fill(-1);
  /** The minutes of a series' rows, ascending (reused). */
  private readonly minutes: number[] = [];
  /** One row: an hour's sums, added up from its minutes' rows. */
  private readonly hourSums: Uint32Array;
  /** Each row handed over, read through one view. */
  private view: RowView;
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
    this.counts = new Uint32Array(FIRST_ROWS * this.width);
    this.hourSums = new Uint32Array(this.width);
    this.view = new RowView(this.counts, this.binRange, this.width, thresholdsUs);
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
    this.seenAt(batch, slot, Math.floor(timeMs / 60_000), timeMs, timeMs);
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

  /** Points the slot at its row for `minute` and widens when it was seen. */
  private seenAt(batch: BatchAggregate, slot: Slot, minute: number, firstMs: number, lastMs: number): void {
    if (minute !== slot.minute) this.moveTo(batch, slot, minute);
    if (lastMs > slot.lastSeenMs) slot.lastSeenMs = lastMs;
    if (firstMs < slot.firstSeenMs) slot.firstSeenMs = firstMs;
  }

  /**
   * Every row, taken out in one array (see TakenRows), and the table emptied: what a chunk's lines came to,
   * for the table of the batch it joins (`addRows`). The cells are laid in `spare` when it has room (the
   * buffer of rows taken and added before).
   */
  takeRows(spare?: ArrayBuffer): TakenRows {
    const series: TakenRows['series'] = [];
    const { binRange, counts, width, binsAt } = this;
    let size = 0;
    for (const slot of this.slots)
      for (const row of slot.rows.values())
        size += TAKEN_HEADER_CELLS + (binsAt - 2) + binRange[row * 2 + 1]! - binRange[row * 2]! + 1;
    const cells =
      spare && spare.byteLength >= size * Float64Array.BYTES_PER_ELEMENT
        ? new Float64Array(spare, 0, size)
        : new Float64Array(size);
    let at = 0;
    for (const slot of this.slots) {
      if (slot.rows.size === 0) continue;
      const index = series.length;
      series.push({ key: slot.key, firstSeenMs: slot.firstSeenMs, lastSeenMs: slot.lastSeenMs });
      for (const [minute, row] of slot.rows) {
        const start = row * width;
        const from = binRange[row * 2]!;
        const to = binRange[row * 2 + 1]!;
        cells[at++] = index;
        cells[at++] = minute;
        for (let j = 0; j < binsAt; j++) cells[at++] = counts[start + j]!;
        cells[at++] = from;
        cells[at++] = to;
        for (let bin = from; bin <= to; bin++) cells[at++] = counts[start + binsAt + bin]!;
      }
    }
    const taken = { series, cells, observations: this.observations };
    this.empty();
    return taken;
  }

  /** Adds rows taken from a table of the same thresholds (`takeRows`), as if their lines were counted here. */
  addRows(batch: BatchAggregate, taken: TakenRows): void {
    const { cells } = taken;
    const { binsAt, width } = this;
    for (let at = 0; at < cells.length; ) {
      const { key, firstSeenMs, lastSeenMs } = taken.series[cells[at]!]!;
      // Looked up row by row: a slot held across rows is dropped if the table fills with series meanwhile.
      const slot = this.slotOf(batch, key.service, key.operation, key.method);
      if (slot.byBatch)
        throw new Error(`series ${slot.keyString} has counting rules: its lines are not rows`);
      this.seenAt(batch, slot, cells[at + 1]!, firstSeenMs, lastSeenMs);
      at += 2;
      this.observations += cells[at]!; // the row's total
      const start = slot.row * width;
      for (let j = 0; j < binsAt; j++) this.counts[start + j]! += cells[at++]!;
      const from = cells[at++]!;
      const to = cells[at++]!;
      for (let bin = from; bin <= to; bin++) this.counts[start + binsAt + bin]! += cells[at++]!;
      const range = slot.row * 2;
      if (from < this.binRange[range]!) this.binRange[range] = from;
      if (to > this.binRange[range + 1]!) this.binRange[range + 1] = to;
    }
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
        keyString: seriesKeyString(series.key),
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
      if (this.rowCount * 2 === this.binRange.length) this.makeRoom(batch);
      row = this.rowCount++;
      this.binRange[row * 2] = BIN_COUNT;
      this.binRange[row * 2 + 1] = -1;
      slot.rows.set(minute, row);
    }
    slot.minute = minute;
    slot.row = row;
  }

  /** Doubles the rows, or once MAX_ROWS are held, hands them to the batch. */
  private makeRoom(batch: BatchAggregate): void {
    const rows = this.binRange.length / 2;
    if (rows >= MAX_ROWS) {
      this.flushInto(batch);
      return;
    }
    const counts = new Uint32Array(2 * rows * this.width);
    counts.set(this.counts);
    const binRange = new Int32Array(4 * rows);
    binRange.set(this.binRange);
    this.counts = counts;
    this.binRange = binRange;
    this.view = new RowView(counts, binRange, this.width, this.thresholdsUs);
  }

  /**
   * Hands every row to the batch as the buckets it would have counted, and starts empty: for a table full
   * before its batch is (the rows the batch holds then stay its own).
   */
  flushInto(batch: BatchAggregate): void {
    const series = new Map<string, SeriesDelta>();
    for (const [index, slot] of this.slots.entries()) {
      if (slot.rows.size === 0) continue;
      const minutes = new Map<number, BucketDelta>();
      for (const [minute, row] of slot.rows) minutes.set(minute, this.view.of(row).delta());
      const { key, firstSeenMs, lastSeenMs } = slot;
      series.set(String(index), { key, firstSeenMs, lastSeenMs, minutes, rules: [] });
    }
    batch.mergeSeries(series, this.observations, true);
    this.empty();
  }

  /**
   * Lends the rows to the batch, for the store to write each minute and hour row straight from this table (no
   * BucketDelta, no map per row: #23). Nothing may be counted until `empty` is called, once the batch is
   * committed or dropped.
   */
  lendRowsTo(batch: BatchAggregate): void {
    const series: RowSeries[] = [];
    for (const [index, slot] of this.slots.entries()) {
      if (slot.rows.size === 0) continue;
      const { key, keyString, firstSeenMs, lastSeenMs } = slot;
      series.push({ key, keyString, firstSeenMs, lastSeenMs, index });
    }
    // A line counted makes a row: with none, nothing was counted, and an empty batch stays empty.
    if (series.length === 0) return;
    batch.addRows(
      { series, buckets: (index, table, write) => this.buckets(index, table, write) },
      this.observations,
    );
  }

  /** Forgets every row (lent or flushed). */
  empty(): void {
    for (const slot of this.slots) {
      slot.rows.clear();
      slot.minute = -1;
      slot.firstSeenMs = Number.POSITIVE_INFINITY;
      slot.lastSeenMs = 0;
    }
    this.counts.fill(0, 0, this.rowCount * this.width);
    this.rowCount = 0;
    this.observations = 0;
  }

  private buckets(
    index: number,
    table: 'minute' | 'hour',
    write: (slot: number, sums: RowSums) => void,
  ): void {
    const { rows } = this.slots[index]!;
    const { minutes, view, width } = this;
    minutes.length = 0;
    for (const minute of rows.keys()) minutes.push(minute);
    minutes.sort((a, b) => a - b);
    if (table === 'minute') {
      for (const minute of minutes) write(minute, view.of(rows.get(minute)!));
      return;
    }
    const { counts, hourSums, binRange } = this;
    for (let i = 0; i < minutes.length; ) {
      const hour = Math.floor(minutes[i]! / 60);
      hourSums.fill(0);
      let lowest = BIN_COUNT;
      let highest = -1;
      for (; i < minutes.length && Math.floor(minutes[i]! / 60) === hour; i++) {
        const row = rows.get(minutes[i]!)!;
        const at = row * width;
        // Total, errors and thresholds, then only the bins the row used.
        for (let j = 0; j < this.binsAt; j++) hourSums[j]! += counts[at + j]!;
        const from = binRange[row * 2]!;
        const to = binRange[row * 2 + 1]!;
        for (let bin = from; bin <= to; bin++)
          hourSums[this.binsAt + bin]! += counts[at + this.binsAt + bin]!;
        if (from < lowest) lowest = from;
        if (to > highest) highest = to;
      }
      write(hour, view.at(hourSums, 0, lowest, highest));
    }
  }
}

/** A row of a MinuteTable (or an hour's sums) as RowSums: one object, pointed at each row in turn. */
class RowView implements RowSums {
  private counts: Uint32Array;
  private start = 0;
  private from = 0;
  private to = -1;
  private readonly binsAt: number;

  constructor(
    private readonly table: Uint32Array,
    private readonly binRange: Int32Array,
    private readonly width: number,
    private readonly thresholdsUs: readonly number[],
  ) {
    this.counts = table;
    this.binsAt = 2 + thresholdsUs.length;
  }

  /** Points at a row of the table. */
  of(row: number): this {
    return this.at(this.table, row * this.width, this.binRange[row * 2]!, this.binRange[row * 2 + 1]!);
  }

  /** Points at the row of `counts` that starts at `start`, whose bins used lie within from..to. */
  at(counts: Uint32Array, start: number, from: number, to: number): this {
    this.counts = counts;
    this.start = start;
    this.from = from;
    this.to = to;
    return this;
  }

  get total(): number {
    return this.counts[this.start]!;
  }

  get errors(): number {
    return this.counts[this.start + 1]!;
  }

  histogram(): Buffer | null {
    return encodeHistogramAt(this.counts, this.start + this.binsAt, this.from, this.to);
  }

  thresholds(): Buffer | null {
    return this.thresholdsUs.length > 0
      ? encodeCountsAt(this.thresholdsUs, this.counts, this.start + 2)
      : null;
  }

  /** The delta the batch would have counted: every threshold's count (zeros too), the bins counted. */
  delta(): BucketDelta {
    const { counts, start } = this;
    const thresholds = new Map<number, number>();
    for (let i = 0; i < this.thresholdsUs.length; i++)
      thresholds.set(this.thresholdsUs[i]!, counts[start + 2 + i]!);
    const histogram = new Map<number, number>();
    for (let bin = this.from; bin <= this.to; bin++) {
      const count = counts[start + this.binsAt + bin]!;
      if (count > 0) histogram.set(bin, count);
    }
    return { total: counts[start]!, errors: counts[start + 1]!, histogram, thresholds, rules: new Map() };
  }
}
