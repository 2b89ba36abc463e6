import type { SloStatus } from '../model/status.js';
import { retentionCutoff, type TrailQuery, trailParams } from './auditTrail.js';
import { BatchedCommit } from './batchedCommit.js';
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
  /** The answer given; `list()` returns it with the statuses it was based on as `answer.statuses`. */
  answer: Record<string, unknown>;
  /** The statuses the decision was based on, as the evaluator published them. */
  statuses: readonly SloStatus[];
}

/** A `gate_inputs` row and the status objects it was stored from. */
interface StoredInputs {
  statuses: readonly SloStatus[];
  id: number;
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
  /** Null for decisions stored before migration 6, whose answer holds their statuses. */
  inputs: string | null;
}

/**
 * Decisions are committed in groups: those made in one turn of the event loop share one transaction, and a
 * caller is answered only once its decision is committed (`committed()`), so the audit trail never misses
 * an answer CI acted on, while one commit per decision would cost the gate more than the decision itself.
 *
 * The statuses a decision was based on change only once per evaluation, while the gate may decide a thousand
 * times a second on them: they are stored once (`gate_inputs`) and every decision made on the same status
 * objects refers to that row.
 */
export class GateDecisionStore {
  private readonly queryAll;
  private readonly queryService;
  private readonly pruneAll;
  private readonly writer: BatchedCommit<GateDecisionRecord>;
  /** The last stored inputs of each list of SLOs, by the identity of the status objects. */
  private readonly storedInputs = new Map<string, StoredInputs>();

  constructor(db: Db) {
    const insert = db.prepare<
      [string, number, string, string | null, string | null, string, string, string, string, string, number]
    >(
      `INSERT INTO gate_decisions (id, decided_at_ms, service, environment, version, change_type, decision, reason, request, answer, inputs_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertInputs = db.prepare<[string]>(`INSERT INTO gate_inputs (statuses) VALUES (?)`);
    const insertAll = db.transaction((records: readonly GateDecisionRecord[]) => {
      // Kept apart until the commit succeeds: a rolled back row id must not be referred to later.
      const added = new Map<string, StoredInputs>();
      let last: StoredInputs | undefined;
      for (const record of records) {
        const { statuses } = record;
        // Most decisions in a row are made on the statuses of the one before.
        let inputs = last !== undefined && sameStatuses(last.statuses, statuses) ? last : undefined;
        if (inputs === undefined) {
          const key = statuses.map((s) => s.name).join('\u0000');
          inputs = added.get(key) ?? this.storedInputs.get(key);
          if (inputs === undefined || !sameStatuses(inputs.statuses, statuses)) {
            inputs = { statuses, id: Number(insertInputs.run(JSON.stringify(statuses)).lastInsertRowid) };
            added.set(key, inputs);
          }
        }
        last = inputs;
        insert.run(
          record.id,
          record.decidedAtMs,
          record.service,
          record.environment,
          record.version,
          record.changeType,
          record.decision,
          record.reason,
          JSON.stringify(record.request),
          JSON.stringify(record.answer),
          inputs.id,
        );
      }
      return added;
    });
    this.writer = new BatchedCommit((records) => {
      for (const [key, inputs] of insertAll(records)) this.storedInputs.set(key, inputs);
    });
    const newestBeyond = db
      .prepare<[number], number>(
        `SELECT decided_at_ms FROM gate_decisions ORDER BY decided_at_ms DESC LIMIT 1 OFFSET ?`,
      )
      .pluck(true);
    const setCutoff = db.prepare<[number]>(`UPDATE gate_audit_cutoff SET cutoff_ms = ?`);
    const deleteBefore = db.prepare<[number]>(`DELETE FROM gate_decisions WHERE decided_at_ms < ?`);
    // The oldest inputs a kept decision refers to, never past the newest inputs, so that new ones are numbered
    // above it (gate_inputs reuses the highest id + 1). Scans the kept decisions: at most `keep` of them.
    const oldestReferred = db
      .prepare<[], number | null>(
        `SELECT min(coalesce((SELECT min(inputs_id) FROM gate_decisions), max(id)), max(id)) FROM gate_inputs`,
      )
      .pluck(true);
    const setInputsCutoff = db.prepare<[number]>(`UPDATE gate_audit_cutoff SET inputs_cutoff = ?`);
    const deleteInputs = db.prepare<[number]>(`DELETE FROM gate_inputs WHERE id < ?`);
    this.pruneAll = db.transaction((beforeMs: number, keep: number) => {
      const cutoff = retentionCutoff(beforeMs, newestBeyond.get(keep));
      // The delete triggers let only rows older than these cutoffs go.
      setCutoff.run(cutoff);
      const decisions = deleteBefore.run(cutoff).changes;
      const inputsCutoff = oldestReferred.get() ?? 0;
      setInputsCutoff.run(inputsCutoff);
      return { decisions, inputs: deleteInputs.run(inputsCutoff).changes };
    });
    // One statement for all services and one for a service, so that the latter reads by_service.
    const listing = (services: string) =>
      db.prepare<ReturnType<typeof trailParams>, DecisionRow>(
        `SELECT d.*, i.statuses AS inputs FROM gate_decisions d LEFT JOIN gate_inputs i ON i.id = d.inputs_id
         WHERE ${services} AND decided_at_ms >= @from AND decided_at_ms < @to
         ORDER BY decided_at_ms DESC, d.id DESC LIMIT @limit`,
      );
    this.queryAll = listing('@service IS NULL');
    this.queryService = listing('service = @service');
  }

  append(record: GateDecisionRecord): void {
    this.writer.add(record);
  }

  /** Resolves once every decision appended so far is committed. */
  committed(): Promise<void> {
    return this.writer.committed();
  }

  /** Commits the decisions not yet written, in one transaction; throws if that fails. */
  flush(): void {
    const failure = this.writer.flush();
    if (failure !== undefined) throw failure;
  }

  /**
   * Retention: drops decisions older than `beforeMs` and all but the newest `keep`, and the stored inputs older
   * than the oldest a kept decision refers to (inputs of a later evaluation outlive their decisions until then).
   */
  prune(beforeMs: number, keep: number): { decisions: number; inputs: number } {
    this.flush();
    const removed = this.pruneAll(beforeMs, keep);
    // The inputs last stored may be gone: the next decision stores its own.
    this.storedInputs.clear();
    return removed;
  }

  list(query: TrailQuery): GateDecisionRecord[] {
    this.flush();
    const params = trailParams(query);
    const rows = (params.service === null ? this.queryAll : this.queryService).all(params);
    // Decisions on the same evaluation share their statuses: parse them once.
    const parsed = new Map<string, unknown>();
    return rows.map((row) => {
      const answer = JSON.parse(row.answer) as Record<string, unknown>;
      if (row.inputs !== null) {
        if (!parsed.has(row.inputs)) parsed.set(row.inputs, JSON.parse(row.inputs));
        answer.statuses = parsed.get(row.inputs);
      }
      return {
        id: row.id,
        decidedAtMs: row.decided_at_ms,
        service: row.service,
        environment: row.environment,
        version: row.version,
        changeType: row.change_type,
        decision: row.decision,
        reason: row.reason,
        request: JSON.parse(row.request) as unknown,
        answer,
        statuses: answer.statuses as SloStatus[],
      };
    });
  }
}

/** The same status objects: the evaluator publishes new ones on each evaluation and never changes them. */
function sameStatuses(stored: readonly SloStatus[], statuses: readonly SloStatus[]): boolean {
  return stored.length === statuses.length && stored.every((s, i) => s === statuses[i]);
}
