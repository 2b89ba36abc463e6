/**
 * Closed time slices of slice-budgeted SLOs (timeslices, ratio-timeslices), kept as they close. Minute rows
 * are kept only days, so a 28-day window judged from minutes alone would lose its older slices. Slices still
 * within minute retention are cut from minute rows (authoritative, late writes included) and kept; older
 * slices come from what was kept, else from hour rollups: exactly for slices of whole hours, and as empty for
 * slices inside hours without a request (the history of a new SLO). A slice none of these can give is left
 * out, and the caller is told from when on every slice is judged.
 */
import { type ClosedSlices, type HeldSlices, judgedSlices } from '../evaluate/budgeting.js';
import type { Db } from './database.js';
import { type BucketSums, bucketSums } from './slotCache.js';

/** Good and valid events of one slice. */
export interface SliceEvents {
  good: number;
  valid: number;
}

/** Which slices of an SLO to read. */
export interface SliceQuery {
  slo: string;
  /** The indicator's selection, good condition and slice length: slices kept under another are not reused. */
  fingerprint: string;
  seriesIds: readonly number[];
  thresholdUs: number | undefined;
  sliceMinutes: number;
  /** Where the window's first slice starts, in epoch minutes. */
  fromMinute: number;
  nowMs: number;
  /** The indicator's good and valid events in some bucket sums. */
  events: (sums: BucketSums) => SliceEvents;
}

/** What slices are cut from: the bucket store's minute and hour rows (store/buckets.ts). */
export interface SliceSource {
  oldestMinuteKept(nowMs: number): number;
  slotSeries(
    table: 'minute' | 'hour',
    seriesIds: readonly number[],
    from: number,
    to: number,
    thresholdUs?: number,
  ): Float64Array;
}

/** The slices of one SLO's window in memory, so a tick reads from SQLite only slices it has not seen. */
interface Held extends HeldSlices {
  slicingId: number;
  fingerprint: string;
  /**
   * Hour rollups were read for the slices older than the minute rows. Once is enough: later slices reach that
   * age already cut from minutes.
   */
  hoursRead: boolean;
  /** The write (SliceStore's count of written hours) up to which the slices in minute rows were cut; -1: none. */
  cutAt: number;
}

/** One kept slice as written: slicing, start (epoch minutes), good and valid events. */
type KeptSlice = [slicingId: number, startMinute: number, good: number, valid: number];

const MINUTES_PER_HOUR = 60;

export class SliceStore {
  private readonly held = new Map<string, Held>();
  /** Per series, the hours written to and the count of written hours when each last was. */
  private readonly written = new Map<number, Map<number, number>>();
  private writes = 0;
  private readonly statements;
  /** Writes slices in one transaction. */
  private readonly keep: (slices: readonly KeptSlice[]) => void;

  constructor(
    db: Db,
    private readonly buckets: SliceSource,
  ) {
    this.statements = {
      findSlicing: db
        .prepare<[string, string], number>(`SELECT id FROM slicings WHERE slo = ? AND fingerprint = ?`)
        .pluck(true),
      insertSlicing: db.prepare<[string, string]>(`INSERT INTO slicings (slo, fingerprint) VALUES (?, ?)`),
      read: db
        .prepare<[number, number, number], [number, number, number]>(
          `SELECT start_minute, good, valid FROM slices WHERE slicing_id = ? AND start_minute >= ? AND start_minute < ?`,
        )
        .raw(true),
      put: db.prepare<KeptSlice>(
        `INSERT OR REPLACE INTO slices (slicing_id, start_minute, good, valid) VALUES (?, ?, ?, ?)`,
      ),
      deleteBefore: db.prepare<[number]>(`DELETE FROM slices WHERE start_minute < ?`),
    };
    this.keep = db.transaction((slices: readonly KeptSlice[]) => {
      for (const slice of slices) this.statements.put.run(...slice);
    });
  }

  /** The closed slices of a window from `query.fromMinute` to now; keeps the ones cut from minutes. */
  closedSlices(query: SliceQuery): ClosedSlices {
    const { sliceMinutes, fromMinute } = query;
    const count = Math.max(0, Math.floor((Math.floor(query.nowMs / 60_000) - fromMinute) / sliceMinutes));
    const held = this.hold(query, count);
    const oldestMinute = this.buckets.oldestMinuteKept(query.nowMs);
    const firstFromMinutes = Math.min(
      count,
      Math.max(0, Math.ceil((oldestMinute - fromMinute) / sliceMinutes)),
    );
    if (!held.hoursRead) {
      this.fromHours(query, held, firstFromMinutes);
      held.hoursRead = true;
    }
    const changed = this.fromMinutes(query, held, firstFromMinutes, count);
    if (changed.length > 0) {
      this.keep(
        changed.map(
          (index): KeptSlice => [
            held.slicingId,
            held.base + index * sliceMinutes,
            held.good[index]!,
            held.valid[index]!,
          ],
        ),
      );
    }
    return judgedSlices(held, count);
  }

  /** The writer added to this series in this hour: slices overlapping it are cut again at the next tick. */
  touched(seriesId: number, hour: number): void {
    let hours = this.written.get(seriesId);
    if (!hours) {
      hours = new Map();
      this.written.set(seriesId, hours);
    }
    hours.set(hour, ++this.writes);
  }

  /** Another connection wrote (an import, say): every slice still in minute rows is cut again. */
  forgetCuts(): void {
    for (const held of this.held.values()) held.cutAt = -1;
  }

  /** Drops slices that started before `oldestMinute` (hour retention: older than any window needs). */
  applyRetention(oldestMinute: number): number {
    this.held.clear();
    this.written.clear();
    return this.statements.deleteBefore.run(oldestMinute).changes;
  }

  /** The held slices of the query's SLO moved to its window: what overlaps stays, the rest is read. */
  private hold(query: SliceQuery, count: number): Held {
    const { slo, fingerprint, sliceMinutes, fromMinute } = query;
    let held = this.held.get(slo);
    if (!held || held.fingerprint !== fingerprint || held.sliceMinutes !== sliceMinutes) {
      held = {
        slicingId: this.slicingId(slo, fingerprint),
        fingerprint,
        sliceMinutes,
        base: fromMinute,
        good: new Float64Array(0),
        valid: new Float64Array(0),
        hoursRead: false,
        cutAt: -1,
      };
      this.held.set(slo, held);
    }
    // Windows move forward along one grid; a calendar period starting anew may move to another.
    const shift = (fromMinute - held.base) / sliceMinutes;
    const overlap =
      Number.isInteger(shift) && shift >= 0 ? Math.max(0, Math.min(count, held.good.length - shift)) : 0;
    // A rolling window keeps its length: its slices move down in place rather than into new arrays.
    const inPlace = overlap > 0 && held.good.length === count;
    const good = inPlace ? held.good : new Float64Array(count);
    const valid = inPlace ? held.valid : new Float64Array(count);
    if (inPlace) {
      good.copyWithin(0, shift, shift + overlap);
      valid.copyWithin(0, shift, shift + overlap);
    } else if (overlap > 0) {
      good.set(held.good.subarray(shift, shift + overlap));
      valid.set(held.valid.subarray(shift, shift + overlap));
    }
    good.fill(Number.NaN, overlap);
    valid.fill(Number.NaN, overlap);
    const rows = this.statements.read.iterate(
      held.slicingId,
      fromMinute + overlap * sliceMinutes,
      fromMinute + count * sliceMinutes,
    );
    for (const [start, g, v] of rows) {
      const index = (start - fromMinute) / sliceMinutes;
      if (!Number.isInteger(index)) continue;
      good[index] = g;
      valid[index] = v;
    }
    Object.assign(held, { base: fromMinute, good, valid, hoursRead: held.hoursRead && overlap > 0 });
    return held;
  }

  private slicingId(slo: string, fingerprint: string): number {
    return (
      this.statements.findSlicing.get(slo, fingerprint) ??
      Number(this.statements.insertSlicing.run(slo, fingerprint).lastInsertRowid)
    );
  }

  /**
   * Fills the unknown slices before `before` from hour rollups: a slice of whole hours gets their events, a
   * slice inside hours without a request is empty; others stay unknown.
   */
  private fromHours(query: SliceQuery, held: Held, before: number): void {
    const { sliceMinutes, base } = held;
    let first = 0;
    while (first < before && !Number.isNaN(held.good[first]!)) first++;
    if (first >= before) return;
    const fromHour = Math.floor((base + first * sliceMinutes) / MINUTES_PER_HOUR);
    const toHour = Math.ceil((base + before * sliceMinutes) / MINUTES_PER_HOUR);
    const hours = this.buckets.slotSeries('hour', query.seriesIds, fromHour, toHour, query.thresholdUs);
    for (let index = first; index < before; index++) {
      if (!Number.isNaN(held.good[index]!)) continue;
      const start = base + index * sliceMinutes;
      const end = start + sliceMinutes;
      const from = Math.floor(start / MINUTES_PER_HOUR) - fromHour;
      const to = Math.ceil(end / MINUTES_PER_HOUR) - fromHour;
      const events = query.events(bucketSums(hours, from, to));
      if (start % MINUTES_PER_HOUR === 0 && end % MINUTES_PER_HOUR === 0) {
        held.good[index] = events.good;
        held.valid[index] = events.valid;
      } else if (events.valid === 0) {
        held.good[index] = 0;
        held.valid[index] = 0;
      }
    }
  }

  /**
   * Cuts from minute rows the slices of [first, last) that may differ from what is held: those never cut and
   * those in hours written since the last cut. Returns those that differ from what was kept, or were not kept.
   */
  private fromMinutes(query: SliceQuery, held: Held, first: number, last: number): number[] {
    const changed: number[] = [];
    const [from, to] = this.toCut(query, held, first, last);
    held.cutAt = this.writes;
    if (from >= to) return changed;
    const { sliceMinutes } = held;
    const fromMinute = held.base + from * sliceMinutes;
    const minutes = this.buckets.slotSeries(
      'minute',
      query.seriesIds,
      fromMinute,
      fromMinute + (to - from) * sliceMinutes,
      query.thresholdUs,
    );
    for (let index = from; index < to; index++) {
      const at = (index - from) * sliceMinutes;
      const { good, valid } = query.events(bucketSums(minutes, at, at + sliceMinutes));
      if (good === held.good[index] && valid === held.valid[index]) continue;
      held.good[index] = good;
      held.valid[index] = valid;
      changed.push(index);
    }
    return changed;
  }

  /** The slices [from, to) of [first, last) spanning every one never cut and every one written since. */
  private toCut(query: SliceQuery, held: Held, first: number, last: number): [number, number] {
    if (held.cutAt < 0) return [first, last];
    let from = last;
    let to = first;
    const include = (start: number, end: number) => {
      if (end <= first || start >= last) return;
      from = Math.min(from, Math.max(first, start));
      to = Math.max(to, Math.min(last, end));
    };
    for (let index = first; index < last; index++) {
      if (Number.isNaN(held.good[index]!)) include(index, index + 1);
    }
    for (const seriesId of query.seriesIds) {
      for (const [hour, write] of this.written.get(seriesId) ?? []) {
        if (write <= held.cutAt) continue;
        include(
          Math.floor((hour * MINUTES_PER_HOUR - held.base) / held.sliceMinutes),
          Math.ceil(((hour + 1) * MINUTES_PER_HOUR - held.base) / held.sliceMinutes),
        );
      }
    }
    return [from, Math.max(from, to)];
  }
}
