import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DatabaseError, isSloguardDatabase } from './database.js';

export interface BackupResult {
  pages: number;
  /** `PRAGMA integrity_check` of the copy: "ok" when it is sound. */
  integrity: string;
}

/** Pages a backup step may copy: all of them, so one step (one read transaction) makes the whole copy. */
const ALL_PAGES = 0x7fffffff;

/**
 * A consistent copy of a sloguard database, also while a service writes to it: SQLite's online backup API on a
 * read-only connection, which neither takes the service's lock nor blocks its writer (WAL). The copy is made in
 * a single step, so it is the database as of one moment: a step interrupted by a write would start over, and
 * under steady ingest small steps might never finish. The copy is checked with `integrity_check`.
 */
export async function backupDatabase(sourcePath: string, targetPath: string): Promise<BackupResult> {
  if (existsSync(targetPath))
    throw new DatabaseError(`${targetPath} exists; a backup never overwrites a file`);
  let source: Database.Database;
  try {
    source = new Database(sourcePath, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new DatabaseError(`cannot open database ${sourcePath}: ${(error as Error).message}`);
  }
  try {
    if (!isSloguardDatabase(source)) throw new DatabaseError(`${sourcePath} is not a sloguard database`);
    const { totalPages } = await source.backup(targetPath, { progress: () => ALL_PAGES });
    const copy = new Database(targetPath);
    try {
      // One self-contained file to move around: the service turns WAL back on when it opens it.
      copy.pragma('journal_mode = DELETE');
      const integrity = copy.pragma('integrity_check', { simple: true }) as string;
      return { pages: totalPages, integrity };
    } finally {
      copy.close();
    }
  } finally {
    source.close();
  }
}
