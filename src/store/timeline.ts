import { badKey, validKey } from '../definitions/eventRules.js';
import type { TimelineSlots } from '../evaluate/timeseries.js';
import {
  addCounts,
  decodeCounts,
  decodeHistogram,
  estimateAtOrUnder,
  type SparseCounts,
} from '../model/histogram.js';
import type { Db } from './database.js';

export interface Timeline {
  slots: TimelineSlots;
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
  rule_counts: Buffer | null;
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
        `SELECT ${column} AS slot, total, errors, histogram, thresholds, rule_counts FROM ${table}
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
   * and from the histogram otherwise, as BucketStore.windowCounts does. With a counting rule's id, total and
   * errors are its valid and bad events where the bucket has them (all and 5xx where it has not).
   */
  read(
    seriesIds: readonly number[],
    fromMs: number,
    toMs: number,
    oldestMinuteKept: number,
    latency?: { thresholdUs: number; histogramFromMs: number },
    ruleId?: number,
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

    const slots: TimelineSlots = { startMs: [], total: [], errors: [], timed: [], latencyGood: [] };
    const histogram: SparseCounts = new Map();
    const bins: SparseCounts = new Map();
    const exact: SparseCounts = new Map();
    for (const part of parts) {
      const slotMs = part.hour ? HOUR_MS : MINUTE_MS;
      if (!latency && ruleId === undefined) {
        const statement = part.hour ? this.statements.hourSums : this.statements.minuteSums;
        for (const row of statement.iterate(ids, part.from, part.to)) {
          slots.startMs.push(row.slot * slotMs);
          slots.total.push(row.total);
          slots.errors.push(row.errors);
          slots.timed.push(0);
          slots.latencyGood.push(0);
        }
        continue;
      }
      const statement = part.hour ? this.statements.hourRows : this.statements.minuteRows;
      let last = -1;
      for (const row of statement.iterate(ids, part.from, part.to)) {
        const startMs = row.slot * slotMs;
        if (startMs !== slots.startMs[last]) {
          last = slots.startMs.push(startMs) - 1;
          slots.total.push(0);
          slots.errors.push(0);
          slots.timed.push(0);
          slots.latencyGood.push(0);
        }
        // Two scratch maps for all rows: a fresh pair per row would make garbage collection the chart's main cost.
        if (ruleId !== undefined) {
          exact.clear();
          decodeCounts(row.rule_counts, exact);
          const valid = exact.get(validKey(ruleId));
          const bad = exact.get(badKey(ruleId));
          const known = valid !== undefined && bad !== undefined;
          slots.total[last]! += known ? valid : row.total;
          slots.errors[last]! += known ? bad : row.errors;
          continue;
        }
        if (!latency) continue;
        bins.clear();
        exact.clear();
        decodeHistogram(row.histogram, bins);
        decodeCounts(row.thresholds, exact);
        let timed = 0;
        for (const count of bins.values()) timed += count;
        slots.total[last]! += row.total;
        slots.errors[last]! += row.errors;
        slots.timed[last]! += timed;
        slots.latencyGood[last]! +=
          exact.get(latency.thresholdUs) ?? estimateAtOrUnder(bins, latency.thresholdUs).good;
        if (startMs >= latency.histogramFromMs) addCounts(histogram, bins);
      }
    }
    return { slots, histogram };
  }
}
