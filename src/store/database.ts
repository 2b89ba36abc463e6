import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { decodeCounts, encodeHistogram } from '../model/histogram.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/** Application id written into the file header, so a foreign SQLite file is recognised before we touch it. */
const APPLICATION_ID = 0x534c4f47; // "SLOG"

/** Whether an open SQLite file carries sloguard's application id. */
export function isSloguardDatabase(db: Db): boolean {
  return db.pragma('application_id', { simple: true }) === APPLICATION_ID;
}

export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

/**
 * Opens (or creates) the store: WAL so readers never block the writer, synchronous=NORMAL (durable across
 * process crashes; a power loss may lose the last commits, see README), then runs pending migrations.
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
  } catch (error) {
    throw new DatabaseError(`cannot open database ${path}: ${(error as Error).message}`);
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Once checkpointed, the WAL is reused from its start; this caps what a burst leaves of it on disk.
  db.pragma('journal_size_limit = 67108864');
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const userVersion = db.pragma('user_version', { simple: true }) as number;
  const hasTables = (db.prepare(`SELECT count(*) AS n FROM sqlite_schema`).get() as { n: number }).n > 0;
  if (applicationId !== APPLICATION_ID && (applicationId !== 0 || hasTables)) {
    db.close();
    throw new DatabaseError(`${path} is not a sloguard database (application_id ${applicationId})`);
  }
  if (userVersion > MIGRATIONS.length) {
    db.close();
    throw new DatabaseError(
      `${path} has schema version ${userVersion}, newer than this sloguard knows (${MIGRATIONS.length})`,
    );
  }
  // Used by the migration that recodes stored histograms (pairs of varints before it).
  db.function('recode_histogram', { deterministic: true }, (blob: unknown) =>
    blob instanceof Uint8Array ? encodeHistogram(decodeCounts(blob)) : blob,
  );
  db.transaction(() => {
    for (let version = userVersion; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
  })();
  return db;
}
