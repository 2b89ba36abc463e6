import type { Db } from './database.js';

/** A break-glass override: lets releases of one scope through a denying gate until it expires or is revoked. */
export interface GateOverride {
  id: string;
  service: string;
  environment: string;
  /** Only this version, or any when null. */
  sha: string | null;
  reason: string;
  ticket: string;
  actor: string;
  createdAtMs: number;
  expiresAtMs: number;
  revokedAtMs: number | null;
  revokedBy: string | null;
}

/** A row as SQLite (numbers) or node-postgres (bigint columns as strings) returns it. */
export interface OverrideRow {
  id: string;
  service: string;
  environment: string;
  sha: string | null;
  reason: string;
  ticket: string;
  actor: string;
  created_at_ms: number | string;
  expires_at_ms: number | string;
  revoked_at_ms: number | string | null;
  revoked_by: string | null;
}

export const overrideFromRow = (row: OverrideRow): GateOverride => ({
  id: row.id,
  service: row.service,
  environment: row.environment,
  sha: row.sha,
  reason: row.reason,
  ticket: row.ticket,
  actor: row.actor,
  createdAtMs: Number(row.created_at_ms),
  expiresAtMs: Number(row.expires_at_ms),
  revokedAtMs: row.revoked_at_ms === null ? null : Number(row.revoked_at_ms),
  revokedBy: row.revoked_by,
});

export class GateOverrideStore {
  private readonly statements;
  /**
   * The overrides in force when read, newest first: the gate asks on every decision, and they change only
   * through this store (create, revoke) or by expiring, so a query per decision would only cost latency.
   */
  private inForce: { atMs: number; overrides: GateOverride[] } | undefined;

  constructor(db: Db) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO gate_overrides (id, service, environment, sha, reason, ticket, actor, created_at_ms, expires_at_ms)
         VALUES (@id, @service, @environment, @sha, @reason, @ticket, @actor, @createdAtMs, @expiresAtMs)`,
      ),
      get: db.prepare<[string], OverrideRow>(`SELECT * FROM gate_overrides WHERE id = ?`),
      // Newest first, so the most recent grant is the one a decision names.
      inForce: db.prepare<[number], OverrideRow>(
        `SELECT * FROM gate_overrides WHERE revoked_at_ms IS NULL AND expires_at_ms > ?
         ORDER BY created_at_ms DESC, rowid DESC`,
      ),
      list: db.prepare<{ service: string | null; activeAt: number | null }, OverrideRow>(
        `SELECT * FROM gate_overrides
         WHERE (@service IS NULL OR service = @service)
           AND (@activeAt IS NULL OR (expires_at_ms > @activeAt AND revoked_at_ms IS NULL))
         ORDER BY created_at_ms DESC LIMIT 500`,
      ),
      revoke: db.prepare<{ id: string; now: number; by: string }>(
        `UPDATE gate_overrides SET revoked_at_ms = @now, revoked_by = @by WHERE id = @id AND revoked_at_ms IS NULL`,
      ),
    };
  }

  create(override: Omit<GateOverride, 'revokedAtMs' | 'revokedBy'>): GateOverride {
    this.statements.insert.run(override);
    this.inForce = undefined;
    return { ...override, revokedAtMs: null, revokedBy: null };
  }

  get(id: string): GateOverride | undefined {
    const row = this.statements.get.get(id);
    return row && overrideFromRow(row);
  }

  /** The newest override in force for a scope; an override without sha covers every version. */
  active(service: string, environment: string, sha: string | null, nowMs: number): GateOverride | undefined {
    // Read again for a moment before the last read: an override expired since may have been in force then.
    if (!this.inForce || nowMs < this.inForce.atMs) {
      this.inForce = { atMs: nowMs, overrides: this.statements.inForce.all(nowMs).map(overrideFromRow) };
    }
    return this.inForce.overrides.find(
      (o) =>
        o.service === service &&
        o.environment === environment &&
        o.expiresAtMs > nowMs &&
        (o.sha === null || o.sha === sha),
    );
  }

  list(query: { service?: string; activeAtMs?: number }): GateOverride[] {
    return this.statements.list
      .all({ service: query.service ?? null, activeAt: query.activeAtMs ?? null })
      .map(overrideFromRow);
  }

  /** Marks an override revoked; false when it was already revoked. */
  revoke(id: string, by: string, nowMs: number): boolean {
    this.inForce = undefined;
    return this.statements.revoke.run({ id, by, now: nowMs }).changes > 0;
  }
}
