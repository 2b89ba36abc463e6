import type { Db } from './database.js';
import { addCounts, decodeCounts, estimateAtOrUnder, type SparseCounts } from './histogram.js';

/** Sums of some series over one stored slot (a minute, or an hour where minutes have aged out). */
export interface TimelineSlot {
  startMs: number;
  total: number;
  errors: number;
  /** Latency only: requests with a duration, and those at or under the threshold. */
  timed: number;
  latencyGood: number;
}

export interface Timeline {
  /** Ascending by start; slots without traffic are absent. */
  slots: TimelineSlot[];
  /** Latency only: the merged histogram of the slots at or after `histogramFromMs`. */
  histogram: SparseCounts;
}

interface SlotRow {
  slot: number;
  total: number;
  errors: number;
}
interface LatencyRow extends SlotRow {
  histogram: Buffer | null;
  thresholds: Buffer | null;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * Reads bucket sums slot by slot, for charts: one query per table for the whole range, summed across the
 * series in SQL, instead of one window query per point. Minute rows where they are kept, hour rows before.
 */
export class TimelineStore {
  private readonly statements;

  constructor(db: Db) {
    // json_each takes the series ids as one parameter, so one prepared statement serves any number of them.
    const sums = (table: string, column: string) =>
      db.prepare<[string, number, number], SlotRow>(
        `SELECT ${column} AS slot, SUM(total) AS total, SUM(errors) AS errors FROM ${table}
         WHERE series_id IN (SELECT value FROM json_each(?)) AND ${column} >= ? AND ${column} < ?
         GROUP BY ${column} ORDER BY ${column}`,
      );
    const rows = (table: string, column: string) =>
      db.prepare<[string, number, number], LatencyRow>(
        `SELECT ${column} AS slot, total, errors, histogram, thresholds FROM ${table}
         WHERE series_id IN (SELECT value FROM json_each(?)) AND ${column} >= ? AND ${column} < ?
         ORDER BY ${column}`,
      );
    this.statements = {
      minuteSums: sums('minute_buckets', 'minute'),
      hourSums: sums('hour_buckets', 'hour'),
      minuteRows: rows('minute_buckets', 'minute'),
      hourRows: rows('hour_buckets', 'hour'),
    };
  }

  /**
   * Slots of the series in [fromMs, toMs). `oldestMinuteKept` (epoch minutes, hour-aligned) splits hour rows
   * from minute rows. With a threshold (µs), latency counts come from exact counts where the bucket has them
   * and from the histogram otherwise, as BucketStore.windowCounts does.
   */
  read(
    seriesIds: readonly number[],
    fromMs: number,
    toMs: number,
    oldestMinuteKept: number,
    latency?: { thresholdUs: number; histogramFromMs: number },
  ): Timeline {
    const ids = JSON.stringify(seriesIds);
    const fromMinute = Math.floor(fromMs / MINUTE_MS);
    const toMinute = Math.ceil(toMs / MINUTE_MS);
    const minuteFrom = Math.max(fromMinute, oldestMinuteKept);
    const parts: Array<{ hour: boolean; from: number; to: number }> = [];
    if (fromMinute < oldestMinuteKept) {
      parts.push({
        hour: true,
        from: Math.floor(fromMs / HOUR_MS),
        to: Math.ceil(Math.min(oldestMinuteKept, toMinute) / 60),
      });
    }
    if (minuteFrom < toMinute) parts.push({ hour: false, from: minuteFrom, to: toMinute });

    const slots: TimelineSlot[] = [];
    const histogram: SparseCounts = new Map();
    for (const part of parts) {
      const slotMs = part.hour ? HOUR_MS : MINUTE_MS;
      if (!latency) {
        const statement = part.hour ? this.statements.hourSums : this.statements.minuteSums;
        for (const row of statement.iterate(ids, part.from, part.to)) {
          slots.push({
            startMs: row.slot * slotMs,
            total: row.total,
            errors: row.errors,
            timed: 0,
            latencyGood: 0,
          });
        }
        continue;
      }
      const statement = part.hour ? this.statements.hourRows : this.statements.minuteRows;
      let current: TimelineSlot | undefined;
      for (const row of statement.iterate(ids, part.from, part.to)) {
        const startMs = row.slot * slotMs;
        if (current?.startMs !== startMs) {
          current = { startMs, total: 0, errors: 0, timed: 0, latencyGood: 0 };
          slots.push(current);
        }
        current.total += row.total;
        current.errors += row.errors;
        const bins = decodeCounts(row.histogram);
        for (const count of bins.values()) current.timed += count;
        const exact = decodeCounts(row.thresholds).get(latency.thresholdUs);
        current.latencyGood += exact ?? estimateAtOrUnder(bins, latency.thresholdUs).good;
        if (startMs >= latency.histogramFromMs) addCounts(histogram, bins);
      }
    }
    return { slots, histogram };
  }
}
