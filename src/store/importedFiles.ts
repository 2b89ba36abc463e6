import type { Db } from './database.js';

/** What `sloguard import` committed of one file, summed over every run since the last --force. */
export interface ImportedFile {
  /** sha256 (hex) of the file's first 64 KiB as stored: names the bytes, whatever the file is called. */
  headSha256: string;
  path: string;
  size: number;
  /** `dev:inode` when last imported. */
  fileId: string;
  /** Bytes of text (gunzipped) read and committed: always the end of a line. */
  offset: number;
  lines: number;
  accepted: number;
  rejected: number;
  skipped: number;
  updatedMs: number;
}

export class ImportedFileStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      get: db.prepare<[string], ImportedFile>(
        `SELECT head_sha256 AS headSha256, path, size, file_id AS fileId, offset, lines, accepted, rejected, skipped,
         updated_ms AS updatedMs FROM imported_files WHERE head_sha256 = ?`,
      ),
      put: db.prepare<ImportedFile>(
        `INSERT OR REPLACE INTO imported_files
         (head_sha256, path, size, file_id, offset, lines, accepted, rejected, skipped, updated_ms)
         VALUES (@headSha256, @path, @size, @fileId, @offset, @lines, @accepted, @rejected, @skipped, @updatedMs)`,
      ),
    };
  }

  get(headSha256: string): ImportedFile | undefined {
    return this.statements.get.get(headSha256);
  }

  /** Call inside the transaction that commits the counts of these bytes (BatchAggregate.alsoInTransaction). */
  put(file: ImportedFile): void {
    this.statements.put.run(file);
  }
}
