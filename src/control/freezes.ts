import type { FreezeScope, FreezeState } from '../store/gateFreezes.js';
import type { ControlDatabase } from './database.js';

interface FreezeRow {
  service: string;
  environment: string;
  frozen: boolean;
  changed_at_ms: string;
  revision: string;
}

const fromRow = (row: FreezeRow): FreezeState => ({
  service: row.service,
  environment: row.environment,
  frozen: row.frozen,
  changedAtMs: Number(row.changed_at_ms),
});

/**
 * The gate's freezes in PostgreSQL. Each replica keeps its own store as the copy its synchronous decisions
 * read; a decision first adopts the scope's shared state, and every change (a decision's or the lease
 * holder's refresh) is written here with INSERT ... ON CONFLICT, numbered so other replicas read it.
 */
export class SharedFreezes {
  /** The newest change read so far: each read of changes asks only for those since. */
  private seenRevision = 0;

  constructor(private readonly db: ControlDatabase) {}

  async get(scope: FreezeScope): Promise<FreezeState | undefined> {
    const { rows } = await this.db.pool.query<FreezeRow>(
      'SELECT * FROM control_gate_freezes WHERE service = $1 AND environment = $2',
      [scope.service, scope.environment],
    );
    return rows[0] && fromRow(rows[0]);
  }

  /** Records a freeze or thaw; a row already in that state keeps the time it changed. */
  async write(state: FreezeState): Promise<void> {
    await this.db.writeInChangeOrder(
      'freezes',
      `INSERT INTO control_gate_freezes (service, environment, frozen, changed_at_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (service, environment) DO UPDATE SET frozen = excluded.frozen,
         changed_at_ms = excluded.changed_at_ms, revision = nextval('control_freeze_revisions')
       WHERE control_gate_freezes.frozen <> excluded.frozen`,
      [state.service, state.environment, state.frozen, state.changedAtMs],
    );
  }

  /** The states changed since the last read, in change order (at most `limit`, the rest on the next read). */
  async changes(limit = 10_000): Promise<FreezeState[]> {
    const { rows } = await this.db.pool.query<FreezeRow>(
      'SELECT * FROM control_gate_freezes WHERE revision > $1 ORDER BY revision LIMIT $2',
      [this.seenRevision, limit],
    );
    for (const row of rows) this.seenRevision = Math.max(this.seenRevision, Number(row.revision));
    return rows.map(fromRow);
  }
}
