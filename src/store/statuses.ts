import type { SloStatus } from '../model/status.js';
import type { Db } from './database.js';

/** The latest SloStatus of each SLO, kept across restarts. */
export class StatusStore {
  private readonly upsert;
  private readonly all;
  private readonly one;
  private readonly remove;
  private readonly saveSlice;

  constructor(db: Db) {
    this.upsert = db.prepare<[string, number, string]>(
      `INSERT INTO slo_status (slo, evaluated_at_ms, status) VALUES (?, ?, ?)
       ON CONFLICT(slo) DO UPDATE SET evaluated_at_ms = excluded.evaluated_at_ms, status = excluded.status`,
    );
    this.all = db.prepare<[], { status: string }>(`SELECT status FROM slo_status`);
    this.one = db.prepare<[string], { status: string }>(`SELECT status FROM slo_status WHERE slo = ?`);
    this.remove = db.prepare<[string]>(`DELETE FROM slo_status WHERE slo = ?`);
    this.saveSlice = db.transaction((statuses: readonly SloStatus[], from: number, untilMs: number) => {
      let next = from;
      while (next < statuses.length) {
        const status = statuses[next++]!;
        this.upsert.run(status.name, status.evaluatedAtMs, JSON.stringify(status));
        if (performance.now() >= untilMs) break;
      }
      return next;
    });
  }

  /**
   * Saves statuses from index `from` on, in one transaction, until performance.now() reaches `untilMs` (at
   * least one): returns the index of the first not saved.
   */
  saveFrom(statuses: readonly SloStatus[], from: number, untilMs: number): number {
    return this.saveSlice(statuses, from, untilMs);
  }

  saveAll(statuses: readonly SloStatus[]): void {
    this.saveFrom(statuses, 0, Number.POSITIVE_INFINITY);
  }

  loadAll(): SloStatus[] {
    return this.all.all().map((row) => JSON.parse(row.status) as SloStatus);
  }

  load(name: string): SloStatus | undefined {
    const row = this.one.get(name);
    return row && (JSON.parse(row.status) as SloStatus);
  }

  forget(name: string): void {
    this.remove.run(name);
  }
}
