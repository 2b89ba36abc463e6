import { randomUUID } from 'node:crypto';
import { type CorrectionSpec, correctionWindow } from '../definitions/corrections.js';
import type { Correction } from '../model/correction.js';
import type { Db } from './database.js';

interface CorrectionRow {
  id: string;
  spec: string;
  actor: string;
  created_at_ms: number;
  deleted_at_ms: number | null;
  deleted_by: string | null;
}

/** A correction added through the API, with its audit fields. */
export interface RecordedCorrection extends Correction {
  deletedAtMs: number | null;
  deletedBy: string | null;
}

/** Why a delete was refused. */
export type DeleteRefusal = 'unknown' | 'from-file' | 'already-deleted';

/** A correction row as another database (the replicas' PostgreSQL) holds it, for `CorrectionStore.keep`. */
export interface CorrectionRecord {
  id: string;
  spec: string;
  actor: string;
  createdAtMs: number;
  deletedAtMs: number | null;
  deletedBy: string | null;
}

/**
 * How the API adds and deletes corrections: in this store, or in the replicas' PostgreSQL, which then copies
 * them here (control/corrections.ts).
 */
export interface CorrectionWrites {
  create(
    spec: CorrectionSpec,
    actor: string,
    nowMs: number,
  ): RecordedCorrection | null | Promise<RecordedCorrection | null>;
  delete(
    id: string,
    by: string,
    nowMs: number,
  ): RecordedCorrection | DeleteRefusal | Promise<RecordedCorrection | DeleteRefusal>;
}

const fromRow = (row: CorrectionRow): RecordedCorrection => {
  const spec = JSON.parse(row.spec) as CorrectionSpec;
  return {
    id: row.id,
    origin: 'api',
    mode: spec.mode,
    window: correctionWindow(spec.window),
    appliesTo: spec.appliesTo,
    reason: spec.reason,
    actor: row.actor,
    createdAtMs: row.created_at_ms,
    deletedAtMs: row.deleted_at_ms,
    deletedBy: row.deleted_by,
  };
};

/** At most this many corrections in force at once through the API: each costs every evaluation some reads. */
export const MAX_ACTIVE_CORRECTIONS = 500;

/**
 * Corrections in force: those the definition files declare, and those added through the API (kept for ever,
 * a delete only marks them). The evaluator asks on every tick; the list changes only through this store.
 */
export class CorrectionStore implements CorrectionWrites {
  private readonly statements;
  /** The corrections in force, and the files' list they were made with (a reload brings another). */
  private inForce: { files: readonly Correction[]; all: Correction[] } | undefined;

  constructor(
    db: Db,
    /** The definition set in force: its files' corrections (a reload swaps them). */
    private readonly definitions: { readonly corrections: readonly Correction[] },
  ) {
    this.statements = {
      insert: db.prepare<[string, string, string, number]>(
        'INSERT INTO corrections (id, spec, actor, created_at_ms) VALUES (?, ?, ?, ?)',
      ),
      get: db.prepare<[string], CorrectionRow>('SELECT * FROM corrections WHERE id = ?'),
      active: db.prepare<[], CorrectionRow>(
        'SELECT * FROM corrections WHERE deleted_at_ms IS NULL ORDER BY created_at_ms, id',
      ),
      all: db.prepare<[], CorrectionRow>(
        'SELECT * FROM corrections ORDER BY created_at_ms DESC, id LIMIT 1000',
      ),
      countActive: db
        .prepare<[], number>('SELECT count(*) FROM corrections WHERE deleted_at_ms IS NULL')
        .pluck(true),
      keep: db.prepare<CorrectionRecord>(
        `INSERT INTO corrections (id, spec, actor, created_at_ms, deleted_at_ms, deleted_by)
         VALUES (@id, @spec, @actor, @createdAtMs, @deletedAtMs, @deletedBy)
         ON CONFLICT(id) DO UPDATE SET deleted_at_ms = excluded.deleted_at_ms, deleted_by = excluded.deleted_by`,
      ),
      markDeleted: db.prepare<[number, string, string]>(
        'UPDATE corrections SET deleted_at_ms = ?, deleted_by = ? WHERE id = ? AND deleted_at_ms IS NULL',
      ),
    };
  }

  /** Every correction in force: files first, then the API's in the order they were added. */
  all(): readonly Correction[] {
    const files = this.definitions.corrections;
    if (this.inForce?.files !== files)
      this.inForce = { files, all: [...files, ...this.statements.active.all().map(fromRow)] };
    return this.inForce.all;
  }

  /** Records a correction (its spec already validated); null when MAX_ACTIVE_CORRECTIONS are in force. */
  create(spec: CorrectionSpec, actor: string, nowMs: number): RecordedCorrection | null {
    if (this.statements.countActive.get()! >= MAX_ACTIVE_CORRECTIONS) return null;
    const id = randomUUID();
    this.statements.insert.run(id, JSON.stringify(spec), actor, nowMs);
    this.inForce = undefined;
    return fromRow(this.statements.get.get(id)!);
  }

  /** Keeps a correction another database recorded (added, or since deleted), as it stands there. */
  keep(record: CorrectionRecord): void {
    this.statements.keep.run(record);
    this.inForce = undefined;
  }

  get(id: string): RecordedCorrection | Correction | undefined {
    const row = this.statements.get.get(id);
    return row ? fromRow(row) : this.definitions.corrections.find((c) => c.id === id);
  }

  /** The files' corrections and the API's newest first (deleted ones too, with who deleted them). */
  list(): Array<Correction | RecordedCorrection> {
    return [...this.definitions.corrections, ...this.statements.all.all().map(fromRow)];
  }

  /** Marks an API correction deleted; files' corrections are changed in their files. */
  delete(id: string, by: string, nowMs: number): RecordedCorrection | DeleteRefusal {
    const row = this.statements.get.get(id);
    if (!row) return this.definitions.corrections.some((c) => c.id === id) ? 'from-file' : 'unknown';
    if (this.statements.markDeleted.run(nowMs, by, id).changes === 0) return 'already-deleted';
    this.inForce = undefined;
    return fromRow(this.statements.get.get(id)!);
  }
}
