import type { Db } from './database.js';

export type EvaluationStatus = 'RUNNING' | 'SUCCEEDED' | 'TERMINAL';

/** An asynchronous gate evaluation (Spinnaker's webhook stage polls it until a final status). */
export interface GateEvaluation {
  id: string;
  request: unknown;
  createdAtMs: number;
  deadlineMs: number;
  status: EvaluationStatus;
  /** The latest gate answer, null before the first decision. */
  answer: unknown;
  decidedAtMs: number | null;
}

interface EvaluationRow {
  id: string;
  request: string;
  created_at_ms: number;
  deadline_ms: number;
  status: EvaluationStatus;
  answer: string | null;
  decided_at_ms: number | null;
}

export class GateEvaluationStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO gate_evaluations (id, request, created_at_ms, deadline_ms, status, answer, decided_at_ms)
         VALUES (@id, @request, @createdAtMs, @deadlineMs, @status, @answer, @decidedAtMs)`,
      ),
      update: db.prepare(
        `UPDATE gate_evaluations SET status = @status, answer = @answer, decided_at_ms = @decidedAtMs WHERE id = @id`,
      ),
      get: db.prepare<[string], EvaluationRow>(`SELECT * FROM gate_evaluations WHERE id = ?`),
    };
  }

  save(evaluation: GateEvaluation, isNew: boolean): void {
    const row = {
      ...evaluation,
      request: JSON.stringify(evaluation.request),
      answer: JSON.stringify(evaluation.answer),
    };
    (isNew ? this.statements.insert : this.statements.update).run(row);
  }

  get(id: string): GateEvaluation | undefined {
    const row = this.statements.get.get(id);
    if (!row) return undefined;
    return {
      id: row.id,
      request: JSON.parse(row.request) as unknown,
      createdAtMs: row.created_at_ms,
      deadlineMs: row.deadline_ms,
      status: row.status,
      answer: row.answer === null ? null : (JSON.parse(row.answer) as unknown),
      decidedAtMs: row.decided_at_ms,
    };
  }
}
