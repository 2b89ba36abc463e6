import { randomUUID } from 'node:crypto';
import type { CorrectionSpec } from '../definitions/corrections.js';
import {
  type CorrectionRecord,
  type CorrectionStore,
  type CorrectionWrites,
  type DeleteRefusal,
  MAX_ACTIVE_CORRECTIONS,
  type RecordedCorrection,
} from '../store/corrections.js';
import type { ControlDatabase } from './database.js';

interface CorrectionRow {
  id: string;
  spec: string;
  actor: string;
  created_at_ms: string;
  deleted_at_ms: string | null;
  deleted_by: string | null;
  changed: string;
}

const fromRow = (row: CorrectionRow): CorrectionRecord => ({
  id: row.id,
  spec: row.spec,
  actor: row.actor,
  createdAtMs: Number(row.created_at_ms),
  deletedAtMs: row.deleted_at_ms === null ? null : Number(row.deleted_at_ms),
  deletedBy: row.deleted_by,
});

/** Rows one read copies at most: at most MAX_ACTIVE_CORRECTIONS are in force, deletes add one change each. */
const PAGE = 1_000;
const PAGES_PER_REFRESH = 10;

/**
 * Corrections on the replicas' PostgreSQL (docs/scaling.md#alerts-incidents-and-corrections): any replica's API
 * adds and deletes them there, and every replica copies what changed into its own correction store, which the
 * evaluator (on the lease holder) and the API read as on one process. The replica that took the request copies
 * at once, so it answers with the correction it stored; the others within one refresh.
 */
export class SharedCorrections implements CorrectionWrites {
  /** The change number read up to. */
  private readUpTo = 0;

  constructor(
    private readonly db: ControlDatabase,
    private readonly local: CorrectionStore,
  ) {}

  /** Records a correction; null when MAX_ACTIVE_CORRECTIONS are in force (counted across replicas). */
  async create(spec: CorrectionSpec, actor: string, nowMs: number): Promise<RecordedCorrection | null> {
    const id = randomUUID();
    // The count and the insert in one statement, under the table's change-order lock: the cap holds across
    // replicas adding at once.
    const { rowCount } = await this.db.writeInChangeOrder(
      'corrections',
      `INSERT INTO control_corrections (id, spec, actor, created_at_ms)
       SELECT $1, $2, $3, $4
       WHERE (SELECT count(*) FROM control_corrections WHERE deleted_at_ms IS NULL) < $5`,
      [id, JSON.stringify(spec), actor, nowMs, MAX_ACTIVE_CORRECTIONS],
    );
    if (!rowCount) return null;
    await this.refresh();
    return this.local.get(id) as RecordedCorrection;
  }

  async delete(id: string, by: string, nowMs: number): Promise<RecordedCorrection | DeleteRefusal> {
    const { rowCount } = await this.db.writeInChangeOrder(
      'corrections',
      `UPDATE control_corrections SET deleted_at_ms = $2, deleted_by = $3,
         changed = nextval('control_correction_changes')
       WHERE id = $1 AND deleted_at_ms IS NULL`,
      [id, nowMs, by],
    );
    if (!rowCount) {
      const { rows } = await this.db.pool.query('SELECT 1 FROM control_corrections WHERE id = $1', [id]);
      if (rows.length > 0) return 'already-deleted';
      // Not added through any replica: one of the definition files', or none.
      return this.local.get(id) ? 'from-file' : 'unknown';
    }
    await this.refresh();
    return this.local.get(id) as RecordedCorrection;
  }

  /** Copies what changed since the last refresh into the local store; returns how many rows. */
  async refresh(): Promise<number> {
    let copied = 0;
    for (let page = 0; page < PAGES_PER_REFRESH; page++) {
      const { rows } = await this.db.pool.query<CorrectionRow>(
        'SELECT * FROM control_corrections WHERE changed > $1 ORDER BY changed LIMIT $2',
        [this.readUpTo, PAGE],
      );
      for (const row of rows) this.local.keep(fromRow(row));
      copied += rows.length;
      const last = rows.at(-1);
      if (last) this.readUpTo = Number(last.changed);
      if (rows.length < PAGE) break;
    }
    return copied;
  }
}
