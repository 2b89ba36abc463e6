import { type GateOverride, type OverrideRow, overrideFromRow } from '../store/gateOverrides.js';
import type { ControlDatabase } from './database.js';

const COLUMNS =
  'id, service, environment, sha, reason, ticket, actor, created_at_ms, expires_at_ms, revoked_at_ms, revoked_by';

/**
 * The gate's overrides in PostgreSQL: granted or revoked through any replica, and read afresh by every
 * decision (no copy that could be behind another replica's grant). Same answers as the SQLite store.
 */
export class SharedOverrides {
  constructor(private readonly db: ControlDatabase) {}

  async create(override: Omit<GateOverride, 'revokedAtMs' | 'revokedBy'>): Promise<GateOverride> {
    await this.db.pool.query(
      `INSERT INTO control_gate_overrides
         (id, service, environment, sha, reason, ticket, actor, created_at_ms, expires_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        override.id,
        override.service,
        override.environment,
        override.sha,
        override.reason,
        override.ticket,
        override.actor,
        override.createdAtMs,
        override.expiresAtMs,
      ],
    );
    return { ...override, revokedAtMs: null, revokedBy: null };
  }

  async get(id: string): Promise<GateOverride | undefined> {
    const { rows } = await this.db.pool.query<OverrideRow>(
      `SELECT ${COLUMNS} FROM control_gate_overrides WHERE id = $1`,
      [id],
    );
    return rows[0] && overrideFromRow(rows[0]);
  }

  /** The newest override in force for a scope (the latest grant wins a tie); one without sha covers every version. */
  async active(
    service: string,
    environment: string,
    sha: string | null,
    nowMs: number,
  ): Promise<GateOverride | undefined> {
    const { rows } = await this.db.pool.query<OverrideRow>(
      `SELECT ${COLUMNS} FROM control_gate_overrides
       WHERE service = $1 AND environment = $2 AND revoked_at_ms IS NULL AND expires_at_ms > $3
         AND (sha IS NULL OR sha = $4)
       ORDER BY created_at_ms DESC, grant_order DESC LIMIT 1`,
      [service, environment, nowMs, sha],
    );
    return rows[0] && overrideFromRow(rows[0]);
  }

  async list(query: { service?: string; activeAtMs?: number }): Promise<GateOverride[]> {
    const { rows } = await this.db.pool.query<OverrideRow>(
      `SELECT ${COLUMNS} FROM control_gate_overrides
       WHERE ($1::text IS NULL OR service = $1)
         AND ($2::bigint IS NULL OR (expires_at_ms > $2 AND revoked_at_ms IS NULL))
       ORDER BY created_at_ms DESC, grant_order DESC LIMIT 500`,
      [query.service ?? null, query.activeAtMs ?? null],
    );
    return rows.map(overrideFromRow);
  }

  /** Marks an override revoked; false when it was already revoked (or another replica revoked it first). */
  async revoke(id: string, by: string, nowMs: number): Promise<boolean> {
    const result = await this.db.pool.query(
      `UPDATE control_gate_overrides SET revoked_at_ms = $3, revoked_by = $2
       WHERE id = $1 AND revoked_at_ms IS NULL`,
      [id, by, nowMs],
    );
    return result.rowCount === 1;
  }
}
