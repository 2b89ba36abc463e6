import type { Db } from './database.js';

/** One row of the append-only audit trail of gate decisions. */
export interface GateDecisionRecord {
  id: string;
  decidedAtMs: number;
  service: string;
  environment: string | null;
  version: string | null;
  changeType: string;
  decision: string;
  reason: string;
  request: unknown;
  answer: unknown;
}

interface DecisionRow {
  id: string;
  decided_at_ms: number;
  service: string;
  environment: string | null;
  version: string | null;
  change_type: string;
  decision: string;
  reason: string;
  request: string;
  answer: string;
}

export interface DecisionQuery {
  service?: string;
  fromMs?: number;
  toMs?: number;
  limit: number;
}

/**
 * Decisions are committed in groups: those made in one turn of the event loop share one transaction, and a
 * caller is answered only once its decision is committed (`committed()`), so the audit trail never misses
 * an answer CI acted on, while one commit per decision would cost the gate more than the decision itself.
 */
export class GateDecisionStore {
  private readonly insertAll;
  private readonly query;
  private pending: GateDecisionRecord[] = [];
  private scheduled = false;
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];

  constructor(db: Db) {
    const insert = db.prepare(
      `INSERT INTO gate_decisions (id, decided_at_ms, service, environment, version, change_type, decision, reason, request, answer)
       VALUES (@id, @decidedAtMs, @service, @environment, @version, @changeType, @decision, @reason, @request, @answer)`,
    );
    this.insertAll = db.transaction((records: GateDecisionRecord[]) => {
      for (const record of records) {
        insert.run({
          ...record,
          request: JSON.stringify(record.request),
          answer: JSON.stringify(record.answer),
        });
      }
    });
    this.query = db.prepare<{ service: string | null; from: number; to: number; limit: number }, DecisionRow>(
      `SELECT * FROM gate_decisions
       WHERE (@service IS NULL OR service = @service) AND decided_at_ms >= @from AND decided_at_ms < @to
       ORDER BY decided_at_ms DESC, id DESC LIMIT @limit`,
    );
  }

  append(record: GateDecisionRecord): void {
    this.pending.push(record);
    if (!this.scheduled) {
      this.scheduled = true;
      // Callers waiting on committed() hear of a failure; nothing may throw out of the event loop.
      setImmediate(() => this.commitPending());
    }
  }

  /** Resolves once every decision appended so far is committed. */
  committed(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Commits the decisions not yet written, in one transaction; throws if that fails. */
  flush(): void {
    const error = this.commitPending();
    if (error !== undefined) throw error;
  }

  private commitPending(): unknown {
    this.scheduled = false;
    const waiters = this.waiters.splice(0);
    try {
      if (this.pending.length > 0) this.insertAll(this.pending.splice(0));
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
      return error;
    }
    for (const waiter of waiters) waiter.resolve();
    return undefined;
  }

  list(query: DecisionQuery): GateDecisionRecord[] {
    this.flush();
    const rows = this.query.all({
      service: query.service ?? null,
      from: query.fromMs ?? 0,
      to: query.toMs ?? Number.MAX_SAFE_INTEGER,
      limit: query.limit,
    });
    return rows.map((row) => ({
      id: row.id,
      decidedAtMs: row.decided_at_ms,
      service: row.service,
      environment: row.environment,
      version: row.version,
      changeType: row.change_type,
      decision: row.decision,
      reason: row.reason,
      request: JSON.parse(row.request) as unknown,
      answer: JSON.parse(row.answer) as unknown,
    }));
  }
}
