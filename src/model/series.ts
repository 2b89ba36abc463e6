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
  readonly inTransaction: ReadonlyArray<() => void>;
}

/** A stored series: its key, its id in the store, and when it was first and last seen. */
export interface SeriesRow extends SeriesKey {
  id: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** The series of one kind and service, or of one of its operations. */
export type SeriesOfService = (kind: SourceKind, service: string, operation?: string) => readonly SeriesRow[];
