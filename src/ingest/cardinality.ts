import type { CardinalityLimits } from '../config/cardinality.js';
import type { SourceKind } from '../model/observation.js';
import { type SeriesDelta, type SeriesKey, seriesKeyString } from '../model/series.js';
import type { BatchAggregate } from './aggregate.js';
import { OTHER_METHOD, OVERFLOW_LABEL } from './labels.js';

/**
 * Label values the configuration or the SLOs name. A series made only of them is never folded, so a flood
 * cannot push an SLO's own route out; there are as many as the configuration makes.
 */
export interface DeclaredLabels {
  service(service: string): boolean;
  source(kind: SourceKind, source: string): boolean;
  operation(service: string, operation: string): boolean;
}

/** Which cap folded a series: the `cap` label of `sloguard_series_overflow_total`. */
export type Cap = 'services' | 'series_per_service' | 'series';
export const CAPS: readonly Cap[] = ['services', 'series_per_service', 'series'];

/** What the rate-limited warning says: the cap, the series refused last, and how many since the last warning. */
export interface OverflowWarning {
  cap: Cap;
  refused: SeriesKey;
  foldedInto: SeriesKey;
  /** Series keys folded by this cap since its last warning, this one included. */
  folded: number;
}

/** One warning per cap per interval at most: a flood of new names must not become a flood of log lines. */
const WARNING_INTERVAL_MS = 60_000;

const serviceKey = (kind: SourceKind, service: string) => `${kind}\u0000${service}`;

/**
 * Bounds the series request data can create, for every way data enters (HTTP push, tailed files, imports,
 * scrapes, spans): the pipeline passes every batch through `fold` before its commit. A series already stored
 * is kept; a new one past a cap is counted under an overflow series instead (OVERFLOW_LABEL in the labels the
 * cap is about). Counts start from the store, so the caps hold across restarts.
 */
export class SeriesLimiter {
  private readonly known = new Set<string>();
  /** Series per kind and service. */
  private readonly perService = new Map<string, number>();
  private readonly services = new Map<SourceKind, number>();
  /** Series admitted by the batch being committed: forgotten if its transaction fails. */
  private admittedInBatch: SeriesKey[] = [];
  readonly overflowed = new Map<Cap, number>(CAPS.map((cap) => [cap, 0]));
  private readonly unwarned = new Map<Cap, number>();
  private readonly lastWarningMs = new Map<Cap, number>();
  private readonly listeners: Array<(warning: OverflowWarning) => void> = [];

  constructor(
    private readonly limits: CardinalityLimits,
    private readonly declared: DeclaredLabels,
    stored: Iterable<SeriesKey>,
    private readonly now: () => number = Date.now,
  ) {
    for (const key of stored) this.record(key);
  }

  get seriesCount(): number {
    return this.known.size;
  }

  /** Calls `listener` at most once a minute per cap while series are being folded. */
  onOverflow(listener: (warning: OverflowWarning) => void): void {
    this.listeners.push(listener);
  }

  /**
   * The batch with every series it may not create folded into an overflow series (the same batch when nothing
   * folds). Call `committed` or `rolledBack` once the batch's transaction is over.
   */
  fold(batch: BatchAggregate): BatchAggregate {
    const foldedKeys = new Map<string, SeriesKey>();
    const check = (keyString: string, key: SeriesKey) => {
      if (this.known.has(keyString) || foldedKeys.has(keyString)) return;
      const admitted = this.admit(key);
      if (admitted !== key) foldedKeys.set(keyString, admitted);
    };
    for (const [keyString, series] of batch.series) check(keyString, series.key);
    for (const rows of batch.rows) for (const series of rows.series) check(series.keyString, series.key);
    if (foldedKeys.size === 0) return batch;
    const relabelled = new Map<string, SeriesDelta>();
    for (const [keyString, series] of batch.series) {
      const key = foldedKeys.get(keyString);
      relabelled.set(keyString, key ? { ...series, key } : series);
    }
    const folded = batch.withoutSeries();
    folded.mergeSeries(relabelled, 0);
    // Rows of a folded series are written under the overflow key; the store merges rows that meet there.
    for (const rows of batch.rows)
      folded.rows.push({
        series: rows.series.map((series) => {
          const key = foldedKeys.get(series.keyString);
          return key ? { ...series, key, keyString: seriesKeyString(key) } : series;
        }),
        buckets: (index, table, write) => rows.buckets(index, table, write),
      });
    return folded;
  }

  committed(): void {
    this.admittedInBatch = [];
  }

  /** The batch's transaction failed: the series it admitted were not stored after all. */
  rolledBack(): void {
    for (const key of this.admittedInBatch) this.forget(key);
    this.admittedInBatch = [];
  }

  /** The key a new series is stored under: its own, or an overflow series. */
  private admit(key: SeriesKey): SeriesKey {
    const declaredService = this.declared.service(key.service);
    if (
      declaredService &&
      this.declared.source(key.kind, key.source) &&
      this.declared.operation(key.service, key.operation)
    )
      return this.add(key);
    const count = this.perService.get(serviceKey(key.kind, key.service));
    if (
      count === undefined &&
      !declaredService &&
      (this.services.get(key.kind) ?? 0) >= this.limits.maxServices
    )
      return this.overflow('services', key, this.overflowKey(key, OVERFLOW_LABEL));
    if ((count ?? 0) >= this.limits.maxSeriesPerService)
      return this.overflow('series_per_service', key, this.overflowKey(key, key.service));
    if (this.known.size >= this.limits.maxSeries)
      return this.overflow('series', key, this.overflowKey(key, key.service));
    return this.add(key);
  }

  /**
   * The service's overflow series (or the kind's, for `service` OVERFLOW_LABEL). Declared names are kept: the
   * source, and a declared route of a declared service with its method, so a route's SLO still counts its
   * requests from a source nobody declared.
   */
  private overflowKey(key: SeriesKey, service: string): SeriesKey {
    const source = this.declared.source(key.kind, key.source) ? key.source : OVERFLOW_LABEL;
    const keepRoute =
      service !== OVERFLOW_LABEL &&
      this.declared.service(service) &&
      this.declared.operation(service, key.operation);
    return keepRoute
      ? { ...key, source }
      : { kind: key.kind, source, service, operation: OVERFLOW_LABEL, method: OTHER_METHOD };
  }

  /**
   * Counts the refusal and returns where the series goes: the overflow series, kept if it exists, if the store
   * has room or if it is a declared route's; else the kind's overflow series, which always may be made (one
   * per kind and declared source).
   */
  private overflow(cap: Cap, refused: SeriesKey, into: SeriesKey): SeriesKey {
    this.overflowed.set(cap, this.overflowed.get(cap)! + 1);
    let target = into;
    const existing = this.known.has(seriesKeyString(target));
    const serviceWide = target.service !== OVERFLOW_LABEL && target.operation === OVERFLOW_LABEL;
    if (!existing && serviceWide && this.known.size >= this.limits.maxSeries)
      target = this.overflowKey(refused, OVERFLOW_LABEL);
    this.warn(cap, refused, target);
    return this.known.has(seriesKeyString(target)) ? target : this.add(target);
  }

  private warn(cap: Cap, refused: SeriesKey, foldedInto: SeriesKey): void {
    const folded = (this.unwarned.get(cap) ?? 0) + 1;
    const nowMs = this.now();
    if (nowMs - (this.lastWarningMs.get(cap) ?? Number.NEGATIVE_INFINITY) < WARNING_INTERVAL_MS) {
      this.unwarned.set(cap, folded);
      return;
    }
    this.lastWarningMs.set(cap, nowMs);
    this.unwarned.set(cap, 0);
    for (const listener of this.listeners) listener({ cap, refused, foldedInto, folded });
  }

  private add(key: SeriesKey): SeriesKey {
    this.record(key);
    this.admittedInBatch.push(key);
    return key;
  }

  private record(key: SeriesKey): void {
    this.known.add(seriesKeyString(key));
    const perService = serviceKey(key.kind, key.service);
    const count = this.perService.get(perService);
    if (count === undefined) this.services.set(key.kind, (this.services.get(key.kind) ?? 0) + 1);
    this.perService.set(perService, (count ?? 0) + 1);
  }

  private forget(key: SeriesKey): void {
    if (!this.known.delete(seriesKeyString(key))) return;
    const perService = serviceKey(key.kind, key.service);
    const count = this.perService.get(perService)! - 1;
    if (count > 0) {
      this.perService.set(perService, count);
      return;
    }
    this.perService.delete(perService);
    this.services.set(key.kind, this.services.get(key.kind)! - 1);
  }
}
