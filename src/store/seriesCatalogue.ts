import type { SourceKind } from '../model/observation.js';
import type { SeriesRow } from '../model/series.js';

const NONE: readonly SeriesRow[] = [];
const serviceKey = (kind: SourceKind, service: string) => `${kind}\u0000${service}`;
const operationKey = (kind: SourceKind, service: string, operation: string) =>
  `${kind}\u0000${service}\u0000${operation}`;

/**
 * Every series row in memory, by kind and service and by kind, service and operation: what an evaluation
 * asks for, answered without a query. The store keeps it in step with its own writes; the caps on series
 * (ingest/cardinality.ts) bound its size.
 */
export class SeriesCatalogue {
  private readonly byId = new Map<number, SeriesRow>();
  private readonly byService = new Map<string, SeriesRow[]>();
  private readonly byOperation = new Map<string, SeriesRow[]>();

  constructor(rows: Iterable<SeriesRow>) {
    for (const row of rows) this.add(row);
  }

  add(row: SeriesRow): void {
    this.byId.set(row.id, row);
    for (const [map, key] of [
      [this.byService, serviceKey(row.kind, row.service)],
      [this.byOperation, operationKey(row.kind, row.service, row.operation)],
    ] as const) {
      const rows = map.get(key);
      if (rows) rows.push(row);
      else map.set(key, [row]);
    }
  }

  /** A commit saw the series at these times (as `touchSeries` widens the stored row). */
  touched(id: number, firstSeenMs: number, lastSeenMs: number): void {
    const row = this.byId.get(id);
    if (!row) return;
    row.firstSeenMs = Math.min(row.firstSeenMs, firstSeenMs);
    row.lastSeenMs = Math.max(row.lastSeenMs, lastSeenMs);
  }

  of(kind: SourceKind, service: string, operation?: string): readonly SeriesRow[] {
    const rows =
      operation === undefined
        ? this.byService.get(serviceKey(kind, service))
        : this.byOperation.get(operationKey(kind, service, operation));
    return rows ?? NONE;
  }
}
