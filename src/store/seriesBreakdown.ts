import { type BucketRow, type CountKey, fillSlot } from './buckets.js';
import type { Db } from './database.js';
import { type BucketSums, bucketSums, FIELDS } from './slotCache.js';
import { planWindow } from './windows.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** A range cut into steps of `stepMs` from `fromMs`; the last step may be shorter. */
export interface StepsRange {
  fromMs: number;
  toMs: number;
  stepMs: number;
}

type Table = 'minute' | 'hour';
interface Part {
  table: Table;
  from: number;
  to: number;
}

/**
 * Which rows make up [fromMs, toMs): steps of an hour or more read hour rollups for whole hours (as a window
 * read does, so the sums match the evaluator's), shorter steps read minute rows where they are kept.
 */
function parts(range: StepsRange, oldestMinuteKept: number): Part[] {
  const fromMinute = Math.floor(range.fromMs / MINUTE_MS);
  const toMinute = Math.ceil(range.toMs / MINUTE_MS);
  if (range.stepMs >= HOUR_MS) {
    const plan = planWindow(fromMinute, toMinute, oldestMinuteKept);
    const minutes = plan.minuteRanges.map(([from, to]): Part => ({ table: 'minute', from, to }));
    return plan.hourRange
      ? [...minutes, { table: 'hour', from: plan.hourRange[0], to: plan.hourRange[1] }]
      : minutes;
  }
  const result: Part[] = [];
  if (fromMinute < oldestMinuteKept)
    result.push({ table: 'hour', from: Math.floor(fromMinute / 60), to: Math.ceil(oldestMinuteKept / 60) });
  const minuteFrom = Math.max(fromMinute, oldestMinuteKept);
  if (minuteFrom < toMinute) result.push({ table: 'minute', from: minuteFrom, to: toMinute });
  return result;
}

/**
 * Bucket sums per series and step, for the budget breakdown: which series of an SLO spent its budget, and when.
 * One query per table for all the series (series ids as one json_each parameter), one row per series and slot.
 */
export class SeriesBreakdownStore {
  private readonly statements;

  constructor(db: Db) {
    const rows = (table: string, column: string) =>
      db.prepare<[string, number, number], BucketRow & { series_id: number; slot: number }>(
        `SELECT series_id, ${column} AS slot, total, errors, histogram, thresholds, rule_counts FROM ${table}
         WHERE series_id IN (SELECT value FROM json_each(?)) AND ${column} >= ? AND ${column} < ?`,
      );
    const sums = (table: string, column: string) =>
      db
        .prepare<[string, number, number], [number, number, number, number]>(
          `SELECT series_id, ${column}, total, errors FROM ${table}
           WHERE series_id IN (SELECT value FROM json_each(?)) AND ${column} >= ? AND ${column} < ?`,
        )
        .raw(true);
    this.statements = {
      rows: { minute: rows('minute_buckets', 'minute'), hour: rows('hour_buckets', 'hour') },
      sums: { minute: sums('minute_buckets', 'minute'), hour: sums('hour_buckets', 'hour') },
    };
  }

  /**
   * Per series, its sums per step; with a count key (latency threshold or counting rule) the latency or rule
   * counts too. A slot is counted in the step its start falls in (an hour rollup before `fromMs` in the first).
   */
  read(
    seriesIds: readonly number[],
    range: StepsRange,
    oldestMinuteKept: number,
    key?: CountKey,
  ): Map<number, BucketSums[]> {
    const steps = Math.max(1, Math.ceil((range.toMs - range.fromMs) / range.stepMs));
    const result = new Map<number, Float64Array>(
      seriesIds.map((id) => [id, new Float64Array(steps * FIELDS)]),
    );
    const ids = JSON.stringify(seriesIds);
    const stepOf = (startMs: number) =>
      Math.min(steps - 1, Math.max(0, Math.floor((startMs - range.fromMs) / range.stepMs)));
    const scratch = new Float64Array(FIELDS);
    for (const part of parts(range, oldestMinuteKept)) {
      const slotMs = part.table === 'hour' ? HOUR_MS : MINUTE_MS;
      if (key === undefined) {
        for (const [seriesId, slot, total, errors] of this.statements.sums[part.table].iterate(
          ids,
          part.from,
          part.to,
        )) {
          const at = stepOf(slot * slotMs) * FIELDS;
          const into = result.get(seriesId)!;
          into[at]! += total;
          into[at + 1]! += errors;
        }
        continue;
      }
      for (const row of this.statements.rows[part.table].iterate(ids, part.from, part.to)) {
        scratch.fill(0);
        fillSlot(row, key, scratch, 0);
        const at = stepOf(row.slot * slotMs) * FIELDS;
        const into = result.get(row.series_id)!;
        for (let i = 0; i < FIELDS; i++) into[at + i]! += scratch[i]!;
      }
    }
    const perStep = (sums: Float64Array) =>
      Array.from({ length: steps }, (_, i) => bucketSums(sums, i, i + 1));
    return new Map([...result].map(([id, sums]) => [id, perStep(sums)]));
  }
}
