import type { SloStatus } from '../model/status.js';
import type { Db } from './database.js';

/** The latest SloStatus of each SLO, kept across restarts. */
export class StatusStore {
  private readonly upsert;
  private readonly all;
  private readonly one;
  private readonly remove;

  constructor(db: Db) {
    this.upsert = db.prepare<[string, number, string]>(
      `INSERT INTO slo_status (slo, evaluated_at_ms, status) VALUES (?, ?, ?)
       ON CONFLICT(slo) DO UPDATE SET evaluated_at_ms = excluded.evaluated_at_ms, status = excluded.status`,
    );
    this.all = db.prepare<[], { status: string }>(`SELECT status FROM slo_status`);
    this.one = db.prepare<[string], { status: string }>(`SELECT status FROM slo_status WHERE slo = ?`);
    this.remove = db.prepare<[string]>(`DELETE FROM slo_status WHERE slo = ?`);
    this.saveAll = db.transaction((statuses: readonly SloStatus[]) => {
      for (const status of statuses)
        this.upsert.run(status.name, status.evaluatedAtMs, JSON.stringify(status));
    });
  }

  readonly saveAll: (statuses: readonly SloStatus[]) => void;

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
