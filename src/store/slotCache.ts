/**
 * Read-side cache of bucket sums, so an evaluation tick reads from SQLite only what changed since the last
 * one (the current hour, mostly) instead of 28 days of rows per SLO. Per series and latency threshold it
 * keeps one array of hour sums and, for the few hours whose minutes a window edge needs, their minute
 * sums. The writer marks the hours it touches; a write by another connection clears everything.
 */

/** Fields of one slot: total, errors, timed, latencyGood, latencyErrorBound. */
export const FIELDS = 5;

/** Adds the sums of slots [from, to) of one series into `into` (FIELDS numbers), reading rows as needed. */
export type SlotLoader = (
  table: 'minute' | 'hour',
  seriesId: number,
  from: number,
  to: number,
  thresholdUs: number | undefined,
  /** Where slot `base` starts in `into`; each slot takes FIELDS numbers. */
  into: Float64Array,
  base: number,
) => void;

interface Entry {
  hourBase: number;
  hours: Float64Array;
  /** The widest hour range asked for: older hours are dropped once the windows have moved past them. */
  widest: number;
  /** Minute sums of single hours (60 × FIELDS), most recently used last. */
  minutes: Map<number, Float64Array>;
  /** Hours written since they were read. */
  dirty: Set<number>;
}

const MINUTE_HOURS_KEPT = 48;

/** Adds slots [first, last) of `data` into `into`, field by field. */
function addSlots(data: Float64Array, first: number, last: number, into: Float64Array): void {
  for (let at = first * FIELDS, stop = last * FIELDS; at < stop; at += FIELDS) {
    for (let f = 0; f < FIELDS; f++) into[f]! += data[at + f]!;
  }
}
const SPARE_HOURS = 24;

export class SlotCache {
  private readonly entries = new Map<number, Map<string, Entry>>();

  constructor(private readonly load: SlotLoader) {}

  /** The writer changed this series in this hour (its hour row and some of its minute rows). */
  touched(seriesId: number, hour: number): void {
    for (const entry of this.entries.get(seriesId)?.values() ?? []) entry.dirty.add(hour);
  }

  clear(): void {
    this.entries.clear();
  }

  private entry(seriesId: number, thresholdUs: number | undefined, fromHour: number): Entry {
    let bySeries = this.entries.get(seriesId);
    if (!bySeries) {
      bySeries = new Map();
      this.entries.set(seriesId, bySeries);
    }
    const key = String(thresholdUs ?? '');
    let entry = bySeries.get(key);
    if (!entry) {
      entry = {
        hourBase: fromHour,
        hours: new Float64Array(0),
        widest: 0,
        minutes: new Map(),
        dirty: new Set(),
      };
      bySeries.set(key, entry);
    }
    return entry;
  }

  /** Re-reads the hours written since they were cached. */
  private refresh(entry: Entry, seriesId: number, thresholdUs: number | undefined): void {
    if (entry.dirty.size === 0) return;
    const end = entry.hourBase + entry.hours.length / FIELDS;
    for (const hour of entry.dirty) {
      entry.minutes.delete(hour);
      if (hour < entry.hourBase || hour >= end) continue;
      const at = (hour - entry.hourBase) * FIELDS;
      entry.hours.fill(0, at, at + FIELDS);
      this.load('hour', seriesId, hour, hour + 1, thresholdUs, entry.hours, entry.hourBase);
    }
    entry.dirty.clear();
  }

  /** Adds hour slots [from, to) of a series into `into`. */
  addHours(
    seriesId: number,
    thresholdUs: number | undefined,
    from: number,
    to: number,
    into: Float64Array,
  ): void {
    const entry = this.entry(seriesId, thresholdUs, from);
    this.refresh(entry, seriesId, thresholdUs);
    entry.widest = Math.max(entry.widest, to - from);
    const end = entry.hourBase + entry.hours.length / FIELDS;
    // Hours older than the widest window (and a day to spare) are dropped as the windows move on.
    const trimTo = to - entry.widest - SPARE_HOURS;
    if (from < entry.hourBase || to > end || trimTo > entry.hourBase + SPARE_HOURS) {
      this.resize(
        entry,
        seriesId,
        thresholdUs,
        Math.min(from, Math.max(entry.hourBase, trimTo)),
        Math.max(to, end),
      );
    }
    addSlots(entry.hours, from - entry.hourBase, to - entry.hourBase, into);
  }

  /** Moves the cached hours to [base, end): keeps what overlaps, reads the rest. */
  private resize(
    entry: Entry,
    seriesId: number,
    thresholdUs: number | undefined,
    base: number,
    end: number,
  ): void {
    const oldEnd = entry.hourBase + entry.hours.length / FIELDS;
    const hours = new Float64Array((end - base) * FIELDS);
    const keptFrom = Math.max(entry.hourBase, base);
    if (keptFrom < oldEnd) {
      hours.set(entry.hours.subarray((keptFrom - entry.hourBase) * FIELDS), (keptFrom - base) * FIELDS);
      if (base < entry.hourBase) this.load('hour', seriesId, base, entry.hourBase, thresholdUs, hours, base);
      if (end > oldEnd) this.load('hour', seriesId, oldEnd, end, thresholdUs, hours, base);
    } else this.load('hour', seriesId, base, end, thresholdUs, hours, base);
    entry.hourBase = base;
    entry.hours = hours;
  }

  /** Adds minute slots [from, to) of a series into `into`. */
  addMinutes(
    seriesId: number,
    thresholdUs: number | undefined,
    from: number,
    to: number,
    into: Float64Array,
  ): void {
    const entry = this.entry(seriesId, thresholdUs, Math.floor(from / 60));
    this.refresh(entry, seriesId, thresholdUs);
    for (let hour = Math.floor(from / 60); hour * 60 < to; hour++) {
      let minutes = entry.minutes.get(hour);
      if (minutes) entry.minutes.delete(hour);
      else {
        minutes = new Float64Array(60 * FIELDS);
        this.load('minute', seriesId, hour * 60, hour * 60 + 60, thresholdUs, minutes, hour * 60);
      }
      entry.minutes.set(hour, minutes);
      if (entry.minutes.size > MINUTE_HOURS_KEPT) entry.minutes.delete(entry.minutes.keys().next().value!);
      addSlots(
        minutes,
        Math.max(from, hour * 60) - hour * 60,
        Math.min(to, hour * 60 + 60) - hour * 60,
        into,
      );
    }
  }
}
