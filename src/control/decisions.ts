import type { SloStatus } from '../model/status.js';
import { type TrailQuery, trailParams } from '../store/auditTrail.js';
import type { GateDecisionRecord } from '../store/gateDecisions.js';
import type { FreezeState } from '../store/gateFreezes.js';
import type { ControlDatabase } from './database.js';
import { upsertFreezes } from './freezes.js';

/** A row as node-postgres returns it: bigint as a string, jsonb parsed. */
interface DecisionRow {
  id: string;
  decided_at_ms: string;
  service: string;
  environment: string | null;
  version: string | null;
  change_type: string;
  decision: string;
  reason: string;
  request: unknown;
  answer: Record<string, unknown>;
  statuses: SloStatus[];
}

const INSERT_DECISIONS = `INSERT INTO control_gate_decisions
    (id, decided_at_ms, service, environment, version, change_type, decision, reason, request, answer, statuses)
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id text, decided_at_ms bigint, service text,
    environment text, version text, change_type text, decision text, reason text, request jsonb,
    answer jsonb, statuses jsonb)`;

/** The decisions as one jsonb parameter, a row each. */
const decisionRows = (records: readonly GateDecisionRecord[]): string =>
  JSON.stringify(
    records.map((r) => ({
      id: r.id,
      decided_at_ms: r.decidedAtMs,
      service: r.service,
      environment: r.environment,
      version: r.version,
      change_type: r.changeType,
      decision: r.decision,
      reason: r.reason,
      request: r.request,
      answer: r.answer,
      statuses: r.statuses,
    })),
  );

/**
 * The audit trail of gate decisions in PostgreSQL, written by every replica. As with SQLite, the decisions of
 * one turn of the event loop are committed together (one INSERT), and a caller is answered only once its
 * decision is committed (`committed()`). The freezes and thaws those decisions made commit in the same
 * transaction: a replica that dies mid-way leaves neither the decision nor its freeze change.
 */
export class SharedDecisions {
  private pending: GateDecisionRecord[] = [];
  private freezes: FreezeState[] = [];
  /** The commit of the decisions appended in this turn, started on the next. */
  private batch: Promise<void> | undefined;

  constructor(private readonly db: ControlDatabase) {}

  /** Adds a decision (and the freeze or thaw it made) to the turn's commit. */
  append(record: GateDecisionRecord, freeze?: FreezeState): void {
    this.pending.push(record);
    if (freeze) this.freezes.push(freeze);
    if (this.batch) return;
    const batch = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.write());
    // Its callers hear a failure through committed(); this keeps it from being reported as unhandled too.
    batch.catch(() => undefined);
    this.batch = batch;
  }

  /** Resolves once the decisions appended in this turn are committed; rejects if their commit failed. */
  committed(): Promise<void> {
    return this.batch ?? Promise.resolve();
  }

  private async write(): Promise<void> {
    const records = this.pending;
    const freezes = this.freezes;
    this.pending = [];
    this.freezes = [];
    this.batch = undefined;
    const rows = [decisionRows(records)];
    // Without a freeze change the one INSERT is its own transaction.
    if (freezes.length === 0) await this.db.pool.query(INSERT_DECISIONS, rows);
    else
      await this.db.transaction(async (client) => {
        await upsertFreezes(client, freezes);
        await client.query(INSERT_DECISIONS, rows);
      });
  }

  /** Newest first, as `GateDecisionStore.list` answers: the answer carries the statuses it was based on. */
  async list(query: TrailQuery): Promise<GateDecisionRecord[]> {
    const params = trailParams(query);
    const { rows } = await this.db.pool.query<DecisionRow>(
      `SELECT * FROM control_gate_decisions
       WHERE ($1::text IS NULL OR service = $1) AND decided_at_ms >= $2 AND decided_at_ms < $3
       ORDER BY decided_at_ms DESC, id DESC LIMIT $4`,
      [params.service, params.from, params.to, params.limit],
    );
    return rows.map((row) => ({
      id: row.id,
      decidedAtMs: Number(row.decided_at_ms),
      service: row.service,
      environment: row.environment,
      version: row.version,
      changeType: row.change_type,
      decision: row.decision,
      reason: row.reason,
      request: row.request,
      answer: { ...row.answer, statuses: row.statuses },
      statuses: row.statuses,
    }));
  }

  /** Retention: drops decisions older than `beforeMs` and all but the newest `keep`; returns how many went. */
  async prune(beforeMs: number, keep: number): Promise<number> {
    const result = await this.db.pool.query(
      `DELETE FROM control_gate_decisions
       WHERE decided_at_ms < greatest($1::bigint, coalesce((SELECT decided_at_ms + 1 FROM control_gate_decisions
         ORDER BY decided_at_ms DESC LIMIT 1 OFFSET $2), 0))`,
      [beforeMs, keep],
    );
    return result.rowCount ?? 0;
  }
}
