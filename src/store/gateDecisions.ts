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
 * Decisions are committed in groups, at most this long after they were answered: one commit per decision
 * would cost the gate more than the decision itself. A hard crash may lose that much of the trail; reading
 * the trail and closing the store commit what is pending first.
 */
export const GROUP_COMMIT_MS = 10;

export class GateDecisionStore {
  private readonly insertAll;
  private readonly query;
  private pending: GateDecisionRecord[] = [];
  private timer: NodeJS.Timeout | undefined;

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
    this.timer ??= setTimeout(() => this.flush(), GROUP_COMMIT_MS).unref();
  }

  /** Commits the decisions not yet written, in one transaction. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) this.insertAll(this.pending.splice(0));
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
