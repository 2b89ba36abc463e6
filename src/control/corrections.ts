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
import { copyChanges } from './changes.js';
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

/**
 * Corrections on the replicas' PostgreSQL (docs/scaling.md#alerts-incidents-and-corrections): any replica's API
 * adds and deletes them there, and every replica copies what changed into its own correction store, which the
 * evaluator (on the lease holder) and the API read as on one process. The replica that took the request copies
 * at once, so it answers with the correction it stored; the others within one refresh.
 */
export class SharedCorrections implements CorrectionWrites {
  /** The change number read up to. */
  private readUpTo = 0;
  /**
   * The copy under way: copies run one after another, since one that read a row before a later change could
   * otherwise store it after the copy that read the change.
   */
  private copying: Promise<unknown> = Promise.resolve();

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
  refresh(): Promise<number> {
    const copy = this.copying.then(
      () => this.copy(),
      () => this.copy(),
    );
    this.copying = copy.catch(() => undefined);
    return copy;
  }

  /**
   * `refresh`, waited for at most `timeoutMs`: rejects past it (the copy goes on; the next queues behind it).
   * The evaluator's tick waits on this, and must not wait on a database that does not answer.
   */
  async refreshWithin(timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no copy within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.refresh(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async copy(): Promise<number> {
    const { readUpTo, copied } = await copyChanges<CorrectionRow>(
      this.db,
      'control_corrections',
      this.readUpTo,
      (row) => this.local.keep(fromRow(row)),
    );
    this.readUpTo = readUpTo;
    return copied;
  }
}
