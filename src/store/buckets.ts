import { badKey, validKey } from '../definitions/eventRules.js';
import {
  addCounts,
  addExactCounts,
  decodeCounts,
  decodeHistogram,
  encodeCounts,
  encodeHistogram,
  estimateAtOrUnder,
} from '../model/histogram.js';
import type { SourceKind } from '../model/observation.js';
import type {
  BucketBatch,
  BucketDelta,
  BucketRows,
  RowSums,
  SeriesKey,
  SeriesOfService,
  SeriesRow,
} from '../model/series.js';
import type { Db } from './database.js';
import { SeriesCatalogue } from './seriesCatalogue.js';
import { SliceStore } from './slices.js';
import { type BucketSums, FIELDS, SlotCache, type SlotReader } from './slotCache.js';
import { WindowPlans } from './windows.js';

/** Sums over a window, and where the window really started. */
export interface WindowCounts extends BucketSums {
  effectiveFromMs: number;
}

export interface BucketRow {
  total: number;
  errors: number;
  histogram: Buffer | null;
  thresholds: Buffer | null;
  rule_counts: Buffer | null;
}

/**
 * What a window read counts beyond total and errors: a latency threshold (µs, positive), or a counting rule's
 * valid and bad events (its id, as ruleCountKey makes it: negative).
 */
export type CountKey = number;
export const ruleCountKey = (ruleId: number): CountKey => -ruleId - 1;

const MINUTES_PER_HOUR = 60;

/** A bucket's exact counts as stored: none (null) when empty. */
const encoded = (counts: Map<number, number> | undefined) =>
  counts && counts.size > 0 ? encodeCounts(counts) : null;

type BucketValues = [number, number, number, number, Buffer | null, Buffer | null, Buffer | null];

/** The row of a bucket that holds one delta's counts. */
const rowOf = (seriesId: number, slot: number, delta: BucketDelta): BucketValues => [
  seriesId,
  slot,
  delta.total,
  delta.errors,
  delta.histogram.size > 0 ? encodeHistogram(delta.histogram) : null,
  encoded(delta.thresholds),
  encoded(delta.rules),
];

function bucketStatements(db: Db, table: 'minute_buckets' | 'hour_buckets', column: 'minute' | 'hour') {
  return {
    get: db.prepare<[number, number], BucketRow>(
      `SELECT total, errors, histogram, thresholds, rule_counts FROM ${table} WHERE series_id = ? AND ${column} = ?`,
    ),
    put: db.prepare<BucketValues>(
      `INSERT OR REPLACE INTO ${table} (series_id, ${column}, total, errors, histogram, thresholds, rule_counts) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** A row where none is yet (changes 0 when one is): one statement for a new row instead of a read and a write. */
    putNew: db.prepare<BucketValues>(
      `INSERT INTO ${table} (series_id, ${column}, total, errors, histogram, thresholds, rule_counts) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    /** Raw rows (slot, total, errors): filling the read cache wants no object per row. */
    slotSums: db
      .prepare<[number, number, number], [number, number, number]>(
        `SELECT ${column}, total, errors FROM ${table} WHERE series_id = ? AND ${column} >= ? AND ${column} < ?`,
      )
      .raw(true),
    slotRows: db.prepare<[number, number, number], BucketRow & { slot: number }>(
      `SELECT ${column} AS slot, total, errors, histogram, thresholds, rule_counts FROM ${table} WHERE series_id = ? AND ${column} >= ? AND ${column} < ?`,
    ),
    /**
     * Each series' latest slot this process wrote: a later one is most likely a new row (an import's next
     * minute), an earlier or the same one most likely exists (the live minute, written every commit). One
     * entry per series written, which the series caps bound.
     */
    latestWritten: new Map<number, number>(),
    /** Through the primary key, one range per series: no index by time to keep. */
    deleteBefore: db.prepare<[number]>(
      `DELETE FROM ${table} WHERE series_id IN (SELECT id FROM series) AND ${column} < ?`,
    ),
  };
}
type BucketStatements = ReturnType<typeof bucketStatements>;

/** Per-minute and per-hour buckets of every series: the only writer, and the window reader. */
export class BucketStore {
  private readonly seriesIds = new Map<string, number>();
  /** Keys of series rows inserted by the transaction under way: forgotten from `seriesIds` if it rolls back. */
  private insertedSeries: string[] = [];
  /** The series table in memory for evaluations, read when first asked and after another connection wrote. */
  private catalogue: SeriesCatalogue | undefined;
  private readonly statements;
  private readonly cache = new SlotCache({
    slots: (...args) => this.loadSlots(...args),
    countHours: (seriesId, from, to) => {
      const [total, errors] = this.statements.countHours.get(seriesId, from, to)!;
      return [total ?? 0, errors ?? 0];
    },
  });
  /** SQLite's data_version as last seen: it moves when another connection commits (then the cache is cleared). */
  private dataVersion: number;
  private inReadPass = false;
  /** windowCounts' sums, reused: a new array per window was a quarter of a tick's garbage. */
  private readonly windowSums = new Float64Array(FIELDS);
  /** A tick asks every SLO for the same few windows: each plan is made once (a new one per read was a tenth of its garbage). */
  private readonly plans = new WindowPlans();
  /** The closed time slices of slice-budgeted SLOs, kept as they close; retention follows the hour rollups. */
  readonly slices: SliceStore;

  constructor(
    db: Db,
    private readonly minuteRetentionDays: number,
  ) {
    this.statements = {
      minute: bucketStatements(db, 'minute_buckets', 'minute'),
      hour: bucketStatements(db, 'hour_buckets', 'hour'),
      findSeries: db.prepare<[string, string, string, string, string], { id: number }>(
        `SELECT id FROM series WHERE kind = ? AND source = ? AND service = ? AND operation = ? AND method = ?`,
      ),
      insertSeries: db.prepare(
        `INSERT INTO series (kind, source, service, operation, method, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      touchSeries: db.prepare(
        `UPDATE series SET last_seen_ms = max(last_seen_ms, ?), first_seen_ms = min(first_seen_ms, ?) WHERE id = ?`,
      ),
      countHours: db
        .prepare<[number, number, number], [number | null, number | null]>(
          `SELECT SUM(total), SUM(errors) FROM hour_buckets WHERE series_id = ? AND hour >= ? AND hour < ?`,
        )
        .raw(true),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(true),
      allSeries: db.prepare<[], SeriesRow>(
        `SELECT id, kind, source, service, operation, method, first_seen_ms AS firstSeenMs, last_seen_ms AS lastSeenMs FROM series`,
      ),
    };
    const transaction = db.transaction((batch: BucketBatch) => this.write(batch));
    this.commit = (batch) => {
      try {
        transaction(batch);
      } catch (error) {
        // A rolled back row id cached here would fail every later batch of that series (FOREIGN KEY); the
        // catalogue may hold its series and times too: it is read again when next asked.
        for (const key of this.insertedSeries) this.seriesIds.delete(key);
        this.catalogue = undefined;
        throw error;
      } finally {
        this.insertedSeries = [];
      }
    };
    this.slices = new SliceStore(db, this);
    this.dataVersion = this.readDataVersion();
  }

  private readDataVersion(): number {
    return this.statements.dataVersion.get()!;
  }

  /** Another connection committed (an import, say): what the cache holds may be old. */
  private checkDataVersion(): void {
    if (this.inReadPass) return;
    const version = this.readDataVersion();
    if (version !== this.dataVersion) {
      this.cache.clear();
      this.catalogue = undefined;
      this.slices.forgetCuts();
      this.dataVersion = version;
    }
  }

  /**
   * Runs `pass` (an evaluation of every SLO) checking for other connections' writes once, not once per window:
   * the check is a statement of its own and was a third of a tick.
   */
  readPass<T>(pass: () => T): T {
    if (this.inReadPass) return pass();
    this.checkDataVersion();
    this.inReadPass = true;
    try {
      return pass();
    } finally {
      this.inReadPass = false;
    }
  }

  /** Drops from the read cache what no read asked for since the last call (once a tick: see SlotCache.sweep). */
  forgetUnread(): void {
    this.cache.sweep();
  }

  /** Writes a batch in one transaction; when it returns the data is committed, when it throws nothing is. */
  readonly commit: (batch: BucketBatch) => void;

  private write(batch: BucketBatch): void {
    for (const [keyString, series] of batch.series) {
      const seriesId = this.seriesId(keyString, series.key, series.firstSeenMs, series.lastSeenMs);
      const hours = new Map<number, BucketDelta[]>();
      for (const [minute, delta] of series.minutes) {
        this.mergeInto(this.statements.minute, seriesId, minute, [delta]);
        const hour = Math.floor(minute / MINUTES_PER_HOUR);
        const list = hours.get(hour);
        if (list) list.push(delta);
        else hours.set(hour, [delta]);
      }
      for (const [hour, deltas] of hours) {
        this.mergeInto(this.statements.hour, seriesId, hour, deltas);
        this.hourWritten(seriesId, hour);
      }
    }
    for (const rows of batch.rows) this.writeRows(rows);
    for (const write of batch.inTransaction) write();
  }

  private hourWritten(seriesId: number, hour: number): void {
    this.cache.touched(seriesId, hour);
    this.slices.touched(seriesId, hour);
  }

  /** Each row straight from its sums; a delta is made only for a row already stored, to merge into. */
  private writeRows(rows: BucketRows): void {
    const { minute, hour } = this.statements;
    for (const series of rows.series) {
      const seriesId = this.seriesId(series.keyString, series.key, series.firstSeenMs, series.lastSeenMs);
      rows.buckets(series.index, 'minute', (slot, sums) => this.putSums(minute, seriesId, slot, sums));
      rows.buckets(series.index, 'hour', (slot, sums) => {
        this.putSums(hour, seriesId, slot, sums);
        this.hourWritten(seriesId, slot);
      });
    }
  }

  private putSums(statements: BucketStatements, seriesId: number, slot: number, sums: RowSums): void {
    const existing = this.putAlone(statements, seriesId, slot, () => [
      seriesId,
      slot,
      sums.total,
      sums.errors,
      sums.histogram(),
      sums.thresholds(),
      null,
    ]);
    if (existing) this.merge(statements, seriesId, slot, existing, [sums.delta()]);
  }

  /** Read-modify-write of one bucket: counts add up, histograms merge bin by bin. */
  private mergeInto(
    statements: BucketStatements,
    seriesId: number,
    slot: number,
    deltas: BucketDelta[],
  ): void {
    const single = deltas.length === 1 ? deltas[0]! : undefined;
    if (single) {
      const existing = this.putAlone(statements, seriesId, slot, () => rowOf(seriesId, slot, single));
      if (existing) this.merge(statements, seriesId, slot, existing, deltas);
      return;
    }
    this.likelyNew(statements, seriesId, slot);
    this.merge(statements, seriesId, slot, statements.get.get(seriesId, slot), deltas);
  }

  /** Whether no row is likely at `slot` (later than any this process wrote for the series); notes it written. */
  private likelyNew(statements: BucketStatements, seriesId: number, slot: number): boolean {
    const latest = statements.latestWritten.get(seriesId);
    const likelyNew = latest === undefined || slot > latest;
    if (likelyNew) statements.latestWritten.set(seriesId, slot);
    return likelyNew;
  }

  /**
   * Writes a row of one set of sums (each minute of an import) where none is: nothing to read or merge. A row
   * likely new is inserted without a read; if it was there after all (written before this process), or
   * another is not, it is read first. Answers the row found there, which the sums must be merged into.
   */
  private putAlone(
    statements: BucketStatements,
    seriesId: number,
    slot: number,
    values: () => BucketValues,
  ): BucketRow | undefined {
    if (this.likelyNew(statements, seriesId, slot) && statements.putNew.run(...values()).changes === 1)
      return undefined;
    const existing = statements.get.get(seriesId, slot);
    if (!existing) statements.put.run(...values());
    return existing;
  }

  /** Adds deltas to a stored row (or to nothing) and writes the sum. */
  private merge(
    statements: BucketStatements,
    seriesId: number,
    slot: number,
    existing: BucketRow | undefined,
    deltas: readonly BucketDelta[],
  ): void {
    let total = existing?.total ?? 0;
    let errors = existing?.errors ?? 0;
    const histogram = decodeHistogram(existing?.histogram);
    let thresholds = existing ? decodeCounts(existing.thresholds) : undefined;
    let rules = existing ? decodeCounts(existing.rule_counts) : undefined;
    for (const delta of deltas) {
      total += delta.total;
      errors += delta.errors;
      addCounts(histogram, delta.histogram);
      if (thresholds) addExactCounts(thresholds, delta.thresholds);
      else thresholds = new Map(delta.thresholds);
      if (rules) addExactCounts(rules, delta.rules);
      else rules = new Map(delta.rules);
    }
    statements.put.run(
      seriesId,
      slot,
      total,
      errors,
      histogram.size > 0 ? encodeHistogram(histogram) : null,
      encoded(thresholds),
      encoded(rules),
    );
  }

  private seriesId(keyString: string, key: SeriesKey, firstSeenMs: number, lastSeenMs: number): number {
    let id = this.seriesIds.get(keyString);
    if (id === undefined) {
      const args = [key.kind, key.source, key.service, key.operation, key.method] as const;
      id = this.statements.findSeries.get(...args)?.id;
      if (id === undefined) {
        id = Number(this.statements.insertSeries.run(...args, firstSeenMs, lastSeenMs).lastInsertRowid);
        this.insertedSeries.push(keyString);
        this.catalogue?.add({ id, ...key, firstSeenMs, lastSeenMs });
      }
      this.seriesIds.set(keyString, id);
    }
    this.statements.touchSeries.run(lastSeenMs, firstSeenMs, id);
    this.catalogue?.touched(id, firstSeenMs, lastSeenMs);
    return id;
  }

  listSeries(kind?: SourceKind): SeriesRow[] {
    const rows = this.statements.allSeries.all();
    return kind ? rows.filter((row) => row.kind === kind) : rows;
  }

  /**
   * Series by kind, service and (optionally) operation, from an in-memory catalogue of the series table: an
   * evaluation's cost follows what its SLOs select, not how many series there are, and asks no query.
   */
  seriesReader(): SeriesOfService {
    this.checkDataVersion();
    this.catalogue ??= new SeriesCatalogue(this.statements.allSeries.iterate());
    const catalogue = this.catalogue;
    return (kind, service, operation) => catalogue.of(kind, service, operation);
  }

  /**
   * The oldest minute still kept by retention: the start of the hour holding the cutoff, so a window as long as
   * the retention (the 3-day burn-rate window with 3 days of minutes) still has its ragged edge in minutes.
   */
  oldestMinuteKept(nowMs: number): number {
    const cutoff = Math.floor(nowMs / 60_000) - this.minuteRetentionDays * 24 * MINUTES_PER_HOUR;
    return Math.floor(cutoff / MINUTES_PER_HOUR) * MINUTES_PER_HOUR;
  }

  /**
   * Sums of the given series over [fromMs, toMs). With a threshold, also the latency counts: a bucket
   * that holds an exact count for it gives that; others are estimated from their histogram. With a counting
   * rule's key, total and errors are the rule's valid and bad events (see BucketSums.estimated).
   */
  windowCounts(
    seriesIds: readonly number[],
    fromMs: number,
    toMs: number,
    thresholdUs?: CountKey,
  ): WindowCounts {
    const plan = this.plans.plan(
      Math.floor(fromMs / 60_000),
      Math.ceil(toMs / 60_000),
      this.oldestMinuteKept(toMs),
    );
    this.checkDataVersion();
    const sums = this.windowSums.fill(0);
    for (const seriesId of seriesIds) {
      // Indexed: destructuring each range made an iterator result per range, per series, per window.
      for (const range of plan.minuteRanges)
        this.cache.addMinutes(seriesId, thresholdUs, range[0], range[1], sums);
      if (plan.hourRange)
        this.cache.addHours(seriesId, thresholdUs, plan.hourRange[0], plan.hourRange[1], sums);
    }
    // One object a window, read off the reused sums (bucketSums and a spread of it made two).
    return {
      total: sums[0]!,
      errors: sums[1]!,
      timed: sums[2]!,
      latencyGood: sums[3]!,
      latencyErrorBound: sums[4]!,
      estimated: sums[5]!,
      effectiveFromMs: plan.effectiveFromMinute * 60_000,
    };
  }

  /**
   * Sums per slot of the given series over slots [from, to) (epoch minutes or hours), FIELDS numbers per slot:
   * what time slices are cut from.
   */
  slotSeries(
    table: 'minute' | 'hour',
    seriesIds: readonly number[],
    from: number,
    to: number,
    thresholdUs?: CountKey,
  ): Float64Array {
    const sums = new Float64Array(Math.max(0, to - from) * FIELDS);
    const one = seriesIds.length > 1 ? new Float64Array(sums.length) : sums;
    for (const seriesId of seriesIds) {
      if (one !== sums) one.fill(0);
      this.loadSlots(table, seriesId, from, to, thresholdUs, one, from, FIELDS);
      if (one !== sums) for (let i = 0; i < sums.length; i++) sums[i]! += one[i]!;
    }
    return sums;
  }

  /**
   * Writes the sums of slots [from, to) of one series into a cache array (slot `base` at index 0, `stride`
   * numbers a slot; with a threshold always FIELDS).
   */
  private loadSlots(
    ...[table, seriesId, from, to, thresholdUs, into, base, stride]: Parameters<SlotReader['slots']>
  ): void {
    const statements = this.statements[table];
    if (thresholdUs !== undefined) {
      for (const row of statements.slotRows.iterate(seriesId, from, to))
        fillSlot(row, thresholdUs, into, (row.slot - base) * FIELDS);
      return;
    }
    for (const [slot, total, errors] of statements.slotSums.all(seriesId, from, to)) {
      into[(slot - base) * stride] = total;
      into[(slot - base) * stride + 1] = errors;
    }
  }

  /** Drops minute rows past retention, and hour rows and kept time slices past the hour retention. */
  applyRetention(
    nowMs: number,
    hourRetentionDays: number,
  ): { minutes: number; hours: number; slices: number } {
    this.cache.clear();
    const minutes = this.statements.minute.deleteBefore.run(this.oldestMinuteKept(nowMs)).changes;
    const oldestHour = Math.floor(nowMs / 3_600_000) - hourRetentionDays * 24;
    const hours = this.statements.hour.deleteBefore.run(oldestHour).changes;
    const slices = this.slices.applyRetention(oldestHour * MINUTES_PER_HOUR);
    return { minutes, hours, slices };
  }
}

/** Writes one row's sums at `at` of a cache array: counts and the latency figures at a threshold. */
export function fillSlot(row: BucketRow, key: CountKey, into: Float64Array, at: number): void {
  if (key < 0) {
    fillRuleSlot(row, -key - 1, into, at);
    return;
  }
  const thresholdUs = key;
  into[at] = row.total;
  into[at + 1] = row.errors;
  const histogram = decodeHistogram(row.histogram);
  let timed = 0;
  for (const count of histogram.values()) timed += count;
  into[at + 2] = timed;
  const exact = decodeCounts(row.thresholds).get(thresholdUs);
  if (exact !== undefined) {
    into[at + 3] = exact;
    into[at + 4] = 0;
    return;
  }
  const estimate = estimateAtOrUnder(histogram, thresholdUs);
  into[at + 3] = estimate.good;
  into[at + 4] = estimate.errorBound;
}

/** A counting rule's valid and bad events of one row; a row without them (older, or scraped) gives all and 5xx. */
function fillRuleSlot(row: BucketRow, ruleId: number, into: Float64Array, at: number): void {
  const counts = decodeCounts(row.rule_counts);
  const valid = counts.get(validKey(ruleId));
  const bad = counts.get(badKey(ruleId));
  if (valid !== undefined && bad !== undefined) {
    into[at] = valid;
    into[at + 1] = bad;
    into[at + 5] = 0;
    return;
  }
  into[at] = row.total;
  into[at + 1] = row.errors;
  into[at + 5] = row.total;
}
