import type { Db } from './database.js';

/** A scope the gate remembers a freeze for; environment '' when callers name none. */
export interface FreezeScope {
  service: string;
  environment: string;
}

export interface FreezeState extends FreezeScope {
  frozen: boolean;
  /** When it last froze or thawed (or was first asked about). */
  changedAtMs: number;
}

/** One string per scope, for maps keyed by scope. */
export const freezeKey = (scope: FreezeScope) => `${scope.service}\u0000${scope.environment}`;

/** Freeze state per service and environment, kept in SQLite so a restart does not lift a freeze. */
export class GateFreezeStore {
  private readonly statements;
  /** Freeze state by scope as last read or written: the gate asks on every decision; only this store writes it. */
  private readonly known = new Map<string, boolean | undefined>();

  constructor(db: Db) {
    this.statements = {
      get: db.prepare<[string, string], { frozen: number }>(
        `SELECT frozen FROM gate_freezes WHERE service = ? AND environment = ?`,
      ),
      put: db.prepare<[string, string, number, number]>(
        `INSERT INTO gate_freezes (service, environment, frozen, changed_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (service, environment) DO UPDATE SET frozen = excluded.frozen, changed_at_ms = excluded.changed_at_ms
         WHERE frozen != excluded.frozen`,
      ),
      all: db.prepare<[], FreezeScope>(`SELECT service, environment FROM gate_freezes`),
      list: db.prepare<
        { service: string | null },
        { service: string; environment: string; frozen: number; changed_at_ms: number }
      >(
        `SELECT * FROM gate_freezes WHERE @service IS NULL OR service = @service ORDER BY service, environment`,
      ),
    };
  }

  /** Whether the scope is frozen; undefined for a scope the gate has not seen yet. */
  isFrozen(scope: FreezeScope): boolean | undefined {
    const key = freezeKey(scope);
    if (this.known.has(key)) return this.known.get(key);
    const row = this.statements.get.get(scope.service, scope.environment);
    const frozen = row && row.frozen === 1;
    this.known.set(key, frozen);
    return frozen;
  }

  /** Records the state; only a change touches the row, so changed_at_ms says when it froze or thawed. */
  set(scope: FreezeScope, frozen: boolean, nowMs: number): void {
    this.statements.put.run(scope.service, scope.environment, frozen ? 1 : 0, nowMs);
    this.known.set(freezeKey(scope), frozen);
  }

  scopes(): FreezeScope[] {
    return this.statements.all.all();
  }

  list(service?: string): FreezeState[] {
    return this.statements.list.all({ service: service ?? null }).map((row) => ({
      service: row.service,
      environment: row.environment,
      frozen: row.frozen === 1,
      changedAtMs: row.changed_at_ms,
    }));
  }
}
