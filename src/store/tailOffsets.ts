import type { Db } from './database.js';

/** How far a collector has read one file, committed with the buckets those bytes produced. */
export interface TailOffset {
  collector: string;
  /** `dev:inode`: a renamed file keeps it, a re-created one gets a new one. */
  fileId: string;
  path: string;
  offset: number;
  /** The file's first bytes (base64), to tell a truncated or replaced file from the one we read. */
  head: string;
}

export class TailOffsetStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      all: db.prepare<[string], TailOffset>(
        `SELECT collector, file_id AS fileId, path, offset, head FROM tail_offsets WHERE collector = ?`,
      ),
      put: db.prepare<[string, string, string, number, string, number]>(
        `INSERT OR REPLACE INTO tail_offsets (collector, file_id, path, offset, head, updated_ms) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      forget: db.prepare<[string, string]>(`DELETE FROM tail_offsets WHERE collector = ? AND file_id = ?`),
    };
  }

  list(collector: string): TailOffset[] {
    return this.statements.all.all(collector);
  }

  /** Call inside the transaction that commits the buckets of these bytes (BatchAggregate.alsoInTransaction). */
  put(offset: TailOffset, nowMs: number): void {
    this.statements.put.run(offset.collector, offset.fileId, offset.path, offset.offset, offset.head, nowMs);
  }

  forget(collector: string, fileId: string): void {
    this.statements.forget.run(collector, fileId);
  }
}
