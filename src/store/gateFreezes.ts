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

interface FreezeRow {
  service: string;
  environment: string;
  frozen: number;
  changed_at_ms: number;
}

const fromRow = (row: FreezeRow): FreezeState => ({
  service: row.service,
  environment: row.environment,
  frozen: row.frozen === 1,
  changedAtMs: row.changed_at_ms,
});

/**
 * Freeze state per service and environment, kept in SQLite so a restart does not lift a freeze. At most
 * `maxEnvironments` scopes per service are remembered: a new one takes the place of the open scope unchanged
 * longest; when every remembered scope is frozen, a new one is not remembered (the gate then judges it on
 * the current statuses alone). All remembered scopes are held in memory: the gate asks on every decision.
 */
export class GateFreezeStore {
  private readonly statements;
  /** Every stored scope by key; only this store writes them. */
  private readonly known = new Map<string, FreezeState>();
  private readonly perService = new Map<string, number>();

  constructor(
    db: Db,
    private readonly maxEnvironments = Number.POSITIVE_INFINITY,
  ) {
    this.statements = {
      put: db.prepare<[string, string, number, number]>(
        `INSERT INTO gate_freezes (service, environment, frozen, changed_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (service, environment) DO UPDATE SET frozen = excluded.frozen, changed_at_ms = excluded.changed_at_ms
         WHERE frozen != excluded.frozen`,
      ),
      forget: db.prepare<[string, string]>(`DELETE FROM gate_freezes WHERE service = ? AND environment = ?`),
      all: db.prepare<[], FreezeRow>(`SELECT * FROM gate_freezes`),
      list: db.prepare<{ service: string | null }, FreezeRow>(
        `SELECT * FROM gate_freezes WHERE @service IS NULL OR service = @service ORDER BY service, environment`,
      ),
    };
    for (const row of this.statements.all.iterate()) this.remember(fromRow(row));
  }

  private remember(state: FreezeState): void {
    const key = freezeKey(state);
    if (!this.known.has(key))
      this.perService.set(state.service, (this.perService.get(state.service) ?? 0) + 1);
    this.known.set(key, state);
  }

  private forget(state: FreezeState): void {
    this.statements.forget.run(state.service, state.environment);
    this.known.delete(freezeKey(state));
    this.perService.set(state.service, (this.perService.get(state.service) ?? 1) - 1);
  }

  /** The scope's state, the same object until it changes; undefined for a scope the gate does not remember. */
  state(scope: FreezeScope): FreezeState | undefined {
    return this.known.get(freezeKey(scope));
  }

  /**
   * Puts a scope back as it was (`before`, or not remembered): a change whose decision could not be
   * committed is undone.
   */
  restore(scope: FreezeScope, before: FreezeState | undefined): void {
    const now = this.known.get(freezeKey(scope));
    // A scope forgotten since (its service's cap) has nothing left to undo.
    if (!now) return;
    if (!before) {
      this.forget(now);
      return;
    }
    this.statements.put.run(scope.service, scope.environment, before.frozen ? 1 : 0, before.changedAtMs);
    this.remember(before);
  }

  /** Whether the scope is frozen; undefined for a scope the gate does not remember. */
  isFrozen(scope: FreezeScope): boolean | undefined {
    return this.known.get(freezeKey(scope))?.frozen;
  }

  /**
   * Records the state; only a change touches the row, so changed_at_ms says when it froze or thawed. False
   * when the scope is new and its service has no room left for it (nothing is stored then).
   */
  set(scope: FreezeScope, frozen: boolean, nowMs: number): boolean {
    const known = this.known.get(freezeKey(scope));
    if (!known && !this.makeRoom(scope.service)) return false;
    this.statements.put.run(scope.service, scope.environment, frozen ? 1 : 0, nowMs);
    if (known?.frozen !== frozen) this.remember({ ...scope, frozen, changedAtMs: nowMs });
    return true;
  }

  /** Below the cap, or the open scope of the service unchanged longest gives its place. */
  private makeRoom(service: string): boolean {
    if ((this.perService.get(service) ?? 0) < this.maxEnvironments) return true;
    let oldest: FreezeState | undefined;
    for (const state of this.known.values()) {
      if (state.service === service && !state.frozen && (!oldest || state.changedAtMs < oldest.changedAtMs))
        oldest = state;
    }
    if (!oldest) return false;
    this.forget(oldest);
    return true;
  }

  /** Every remembered scope: at most `maxEnvironments` per service. */
  scopes(): FreezeState[] {
    return [...this.known.values()];
  }

  /** Forgets open scopes unchanged since `beforeMs` (an open scope and an unknown one are judged alike). */
  prune(beforeMs: number): number {
    const stale = [...this.known.values()].filter((s) => !s.frozen && s.changedAtMs < beforeMs);
    for (const state of stale) this.forget(state);
    return stale.length;
  }

  list(service?: string): FreezeState[] {
    return this.statements.list.all({ service: service ?? null }).map(fromRow);
  }
}
