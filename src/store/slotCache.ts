/**
 * Read-side cache of bucket sums, so an evaluation tick reads from SQLite only what changed since the last
 * one (the current hour, mostly) instead of 28 days of rows per SLO. Per series and latency threshold it
 * keeps the sums of the hour ranges windows asked for and, for the few hours whose minutes a window edge
 * needs, their minute sums. The writer marks the hours it touches; a write by another connection clears
 * everything.
 */

import type { RequestSums } from '../evaluate/inputs.js';

/** Fields of one slot: total, errors, timed, latencyGood, latencyErrorBound, estimated. */
export const FIELDS = 6;

/**
 * Sums over some buckets of some series; latency figures only when a threshold was asked for. latencyGood is
 * exact where the threshold was declared when the buckets were written, else estimated from the histogram.
 */
export interface BucketSums extends RequestSums {
  /**
   * Read for a counting rule (good/bad/valid rules), `total` and `errors` are its valid and bad events; these
   * many of them come from buckets without the rule's counts (written before it was declared, or scraped), where
   * they are all requests and the 5xx.
   */
  estimated: number;
}

/** The sums of slots [first, last) of an array of FIELDS numbers per slot (as the read cache keeps them). */
export function bucketSums(slots: Float64Array, first = 0, last = slots.length / FIELDS): BucketSums {
  let [total, errors, timed, latencyGood, latencyErrorBound, estimated] = [0, 0, 0, 0, 0, 0];
  for (let at = first * FIELDS; at < last * FIELDS; at += FIELDS) {
    total += slots[at]!;
    errors += slots[at + 1]!;
    timed += slots[at + 2]!;
    latencyGood += slots[at + 3]!;
    latencyErrorBound += slots[at + 4]!;
    estimated += slots[at + 5]!;
  }
  return { total, errors, timed, latencyGood, latencyErrorBound, estimated };
}

/** Reads bucket rows for the cache. */
export interface SlotReader {
  /**
   * Writes the sums of slots [from, to) of one series into `into`, slot `base` at index 0, `stride` numbers
   * each: FIELDS, or without a threshold COUNTED_FIELDS (total and errors).
   */
  slots(
    table: 'minute' | 'hour',
    seriesId: number,
    from: number,
    to: number,
    thresholdUs: number | undefined,
    into: Float64Array,
    base: number,
    stride: number,
  ): void;
  /** Total and errors of hours [from, to) of one series. */
  countHours(seriesId: number, from: number, to: number): readonly [total: number, errors: number];
}

interface Entry {
  /** Latency entries: hour sums of [hourBase, hourBase + hours.length / FIELDS). */
  hourBase: number;
  hours: Float64Array;
  /** The widest hour range asked for: older hours are dropped once the windows have moved past them. */
  widest: number;
  /**
   * Entries without a threshold: sums of whole hour ranges, added up by SQLite (no row per hour crosses into
   * JavaScript, which made the first evaluation slow), most recently used last.
   */
  ranges: Map<string, HourRange>;
  /** Minute sums of single hours, most recently used last. */
  minutes: Map<number, MinuteHour>;
  /** Hours written since they were read. */
  dirty: Set<number>;
  /** The read pass that last asked for this series and threshold. */
  usedIn: number;
}

/**
 * The minute sums of one hour from its minute `readFrom` on (slots of FIELDS, or COUNTED_FIELDS without a
 * threshold): a window's left edge moves forward, so the minutes before it are neither read nor kept (half
 * an hour a series on average, of the minute sums that are most of the cache).
 */
interface MinuteHour {
  sums: Float64Array;
  readFrom: number;
  usedIn: number;
}

/** Total and errors of a range of hours, as plain numbers: an array each took three objects. */
interface HourRange {
  from: number;
  to: number;
  total: number;
  errors: number;
  usedIn: number;
}

const MINUTE_HOURS_KEPT = 48;
/** Hour ranges kept per series: an SLO window and the burn-rate windows of a few SLOs on the same series. */
const RANGES_KEPT = 32;

/** Adds slots [first, last) of `data` (`stride` fields a slot) into `into`, field by field. */
function addSlots(
  data: Float64Array,
  first: number,
  last: number,
  into: Float64Array,
  stride = FIELDS,
): void {
  for (let at = first * stride, stop = last * stride; at < stop; at += stride) {
    for (let f = 0; f < stride; f++) into[f]! += data[at + f]!;
  }
}

/**
 * Fields a minute the cache keeps without a threshold: total and errors, the rest being zero. Minute sums are
 * most of what it holds (docs/benchmarks.md, cost curves).
 */
export const COUNTED_FIELDS = 2;
const strideOf = (thresholdUs: number | undefined) => (thresholdUs === undefined ? COUNTED_FIELDS : FIELDS);

/**
 * Keeps `value` at `key`, dropping the oldest entry beyond `kept`. A key already held stays where it is: moving
 * it to the end on every read (least recently used order) rebuilt the maps' tables, a tenth of a tick's
 * garbage, and the sweep once a tick is what bounds the cache; `kept` only caps one tick's reads of a series.
 */
function use<K, V>(map: Map<K, V>, key: K, value: V, kept: number): void {
  if (map.get(key) === value) return;
  map.set(key, value);
  if (map.size > kept) map.delete(map.keys().next().value!);
}

const SPARE_HOURS = 24;
const NO_MINUTES = new Float64Array(0);

export class SlotCache {
  private readonly entries = new Map<number, Map<string, Entry>>();
  /** Sweeps so far: what is read is marked with it, and what the next sweep finds unmarked goes. */
  private pass = 0;

  constructor(private readonly reader: SlotReader) {}

  /** The writer changed this series in this hour (its hour row and some of its minute rows). */
  touched(seriesId: number, hour: number): void {
    for (const entry of this.entries.get(seriesId)?.values() ?? []) entry.dirty.add(hour);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Hours of minute sums held, over every series and threshold (what the sweep bounds). */
  minuteHoursHeld(): number {
    let held = 0;
    for (const bySeries of this.entries.values())
      for (const entry of bySeries.values()) held += entry.minutes.size;
    return held;
  }

  /**
   * Drops what no read asked for since the last sweep (called once a tick, so what a whole evaluation did not
   * ask for). Window edges only move forward, so a minute hour an edge has left or a range a window has moved
   * past is not asked for again; kept until the least recently used fell out, they held up to 48 hours of
   * minutes per series, about 1.4 GB at 10,000 series (docs/benchmarks.md, cost curves). Series no SLO reads
   * any more go whole.
   */
  sweep(): void {
    // forEach, not for…of: an entry array per element was most of the sweep's cost at 10,000 series.
    const unread = <K>(map: Map<K, { usedIn: number }>) =>
      map.forEach((value, key) => {
        if (value.usedIn !== this.pass) map.delete(key);
      });
    this.entries.forEach((bySeries, seriesId) => {
      unread(bySeries);
      bySeries.forEach((entry) => {
        unread(entry.minutes);
        unread(entry.ranges);
      });
      if (bySeries.size === 0) this.entries.delete(seriesId);
    });
    this.pass++;
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
        ranges: new Map(),
        minutes: new Map(),
        dirty: new Set(),
        usedIn: this.pass,
      };
      bySeries.set(key, entry);
    }
    entry.usedIn = this.pass;
    return entry;
  }

  /** Forgets or re-reads what the hours written since they were cached held. */
  private refresh(entry: Entry, seriesId: number, thresholdUs: number | undefined): void {
    if (entry.dirty.size === 0) return;
    const end = entry.hourBase + entry.hours.length / FIELDS;
    for (const hour of entry.dirty) {
      entry.minutes.delete(hour);
      for (const [key, range] of entry.ranges) {
        if (range.from <= hour && hour < range.to) entry.ranges.delete(key);
      }
      if (hour < entry.hourBase || hour >= end) continue;
      const at = (hour - entry.hourBase) * FIELDS;
      entry.hours.fill(0, at, at + FIELDS);
      this.reader.slots('hour', seriesId, hour, hour + 1, thresholdUs, entry.hours, entry.hourBase, FIELDS);
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
    if (thresholdUs === undefined) this.addCountedHours(entry, seriesId, from, to, into);
    else this.addLatencyHours(entry, seriesId, thresholdUs, from, to, into);
  }

  /**
   * Without a threshold a range's sums are all a window needs: SQLite adds the range up once, and it is read
   * again only when a window moves to another hour or a write lands in it.
   */
  private addCountedHours(
    entry: Entry,
    seriesId: number,
    from: number,
    to: number,
    into: Float64Array,
  ): void {
    const key = `${from}:${to}`;
    let range = entry.ranges.get(key);
    if (!range) {
      const [total, errors] = this.reader.countHours(seriesId, from, to);
      range = { from, to, total, errors, usedIn: this.pass };
    }
    range.usedIn = this.pass;
    use(entry.ranges, key, range, RANGES_KEPT);
    into[0]! += range.total;
    into[1]! += range.errors;
  }

  /**
   * Latency sums come from decoding each hour's histogram in JavaScript, so hours are kept one by one and a
   * window moving on reads only the hours it gains.
   */
  private addLatencyHours(
    entry: Entry,
    seriesId: number,
    thresholdUs: number,
    from: number,
    to: number,
    into: Float64Array,
  ): void {
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
  private resize(entry: Entry, seriesId: number, thresholdUs: number, base: number, end: number): void {
    const oldEnd = entry.hourBase + entry.hours.length / FIELDS;
    const hours = new Float64Array((end - base) * FIELDS);
    const keptFrom = Math.max(entry.hourBase, base);
    const read = (from: number, to: number) =>
      this.reader.slots('hour', seriesId, from, to, thresholdUs, hours, base, FIELDS);
    if (keptFrom < oldEnd) {
      hours.set(entry.hours.subarray((keptFrom - entry.hourBase) * FIELDS), (keptFrom - base) * FIELDS);
      if (base < entry.hourBase) read(base, entry.hourBase);
      if (end > oldEnd) read(oldEnd, end);
    } else read(base, end);
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
    const stride = strideOf(thresholdUs);
    for (let hour = Math.floor(from / 60); hour * 60 < to; hour++) {
      const first = Math.max(from, hour * 60) - hour * 60;
      const minutes = entry.minutes.get(hour) ?? { sums: NO_MINUTES, readFrom: 60, usedIn: this.pass };
      minutes.usedIn = this.pass;
      // Window edges move forward: the minutes before the earliest asked for are read only when asked for.
      if (first < minutes.readFrom) {
        const at = hour * 60;
        const sums = new Float64Array((60 - first) * stride);
        sums.set(minutes.sums, (minutes.readFrom - first) * stride);
        this.reader.slots(
          'minute',
          seriesId,
          at + first,
          at + minutes.readFrom,
          thresholdUs,
          sums,
          at + first,
          stride,
        );
        minutes.sums = sums;
        minutes.readFrom = first;
      }
      use(entry.minutes, hour, minutes, MINUTE_HOURS_KEPT);
      const last = Math.min(to, hour * 60 + 60) - hour * 60;
      addSlots(minutes.sums, first - minutes.readFrom, last - minutes.readFrom, into, stride);
    }
  }
}
