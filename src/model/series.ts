import type { CountingRule } from './eventRules.js';
import type { SparseCounts } from './histogram.js';
import type { SourceKind } from './observation.js';

/** Sums of one series over one minute, as a batch adds them. */
export interface BucketDelta {
  total: number;
  errors: number;
  histogram: SparseCounts;
  thresholds: SparseCounts;
  /** Exact valid and bad counts of each counting rule of the series (eventRules.ts validKey, badKey). */
  rules: SparseCounts;
}

export interface SeriesKey {
  kind: SourceKind;
  source: string;
  service: string;
  operation: string;
  method: string;
}

export interface SeriesDelta {
  key: SeriesKey;
  lastSeenMs: number;
  firstSeenMs: number;
  minutes: Map<number, BucketDelta>;
  /** The counting rules of SLOs that read this series' service (good/bad/valid rules). */
  rules: readonly CountingRule[];
}

/** A series key as one string, for maps keyed by series. */
export function seriesKeyString(key: SeriesKey): string {
  return `${key.kind}\u0000${key.source}\u0000${key.service}\u0000${key.operation}\u0000${key.method}`;
}

/** What one commit writes: per-series minute sums, and the writes that ride in the same transaction. */
export interface BucketBatch {
  readonly series: ReadonlyMap<string, SeriesDelta>;
  /** Sums held in rows rather than in `series` (an import's minute table); a series may be in both. */
  readonly rows: readonly BucketRows[];
  readonly inTransaction: ReadonlyArray<() => void>;
}

/** A series of BucketRows: its key, when it was seen, and `index`, how the rows know it. */
export interface RowSeries {
  key: SeriesKey;
  keyString: string;
  firstSeenMs: number;
  lastSeenMs: number;
  index: number;
}

/** One bucket's sums as BucketRows hand them over: valid only during the call that hands them. */
export interface RowSums {
  readonly total: number;
  readonly errors: number;
  /** The stored histogram and threshold counts (encodeHistogram, encodeCounts), null when empty. */
  histogram(): Buffer | null;
  thresholds(): Buffer | null;
  /** The sums as a delta, for merging into a row already stored. */
  delta(): BucketDelta;
}

/**
 * Per-series, per-minute sums kept in rows of a typed array rather than BucketDeltas (an import's
 * MinuteTable): the store writes each minute and hour row straight from them, so a commit makes no map per
 * bucket (#23). Their series have no counting rules.
 */
export interface BucketRows {
  readonly series: readonly RowSeries[];
  /** Calls `write` with each bucket of series `index`, minutes or hours (summed), in ascending order. */
  buckets(index: number, table: 'minute' | 'hour', write: (slot: number, sums: RowSums) => void): void;
}

/** A stored series: its key, its id in the store, and when it was first and last seen. */
export interface SeriesRow extends SeriesKey {
  id: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** The series of one kind and service, or of one of its operations. */
export type SeriesOfService = (kind: SourceKind, service: string, operation?: string) => readonly SeriesRow[];
