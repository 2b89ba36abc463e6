import type pg from 'pg';
import type { OutgoingRequest } from '../model/notification.js';
import type { OutboxEntry, OutboxQueue, OutboxState } from '../store/outbox.js';
import type { ControlDatabase } from './database.js';

/** Where a statement runs: the pool, or the client of a transaction it belongs to. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/** A row as node-postgres returns it: bigint columns come as strings (they may exceed 2^53 in general). */
interface OutboxRow {
  id: string;
  target: string;
  subject: string;
  request: string;
  created_at_ms: string;
  next_attempt_ms: string;
  attempts: number;
  last_error: string | null;
  state: OutboxState;
}

const fromRow = (row: OutboxRow): OutboxEntry => ({
  id: Number(row.id),
  target: row.target,
  subject: row.subject,
  request: JSON.parse(row.request) as OutgoingRequest,
  createdAtMs: Number(row.created_at_ms),
  nextAttemptMs: Number(row.next_attempt_ms),
  attempts: row.attempts,
  lastError: row.last_error,
  state: row.state,
});

const FINISH = `UPDATE control_outbox SET state = $1, attempts = attempts + 1, finished_at_ms = $2, last_error = $3,
  claim_owner = NULL, claim_until_ms = NULL
  WHERE id = $4 AND claim_owner = $5`;

/**
 * The outbox every replica sends from (docs/scaling.md#alerts-incidents-and-corrections). Any replica's
 * dispatcher may send: it claims the head of a target in a transaction that locks the row `FOR UPDATE SKIP
 * LOCKED` and stamps a claim-until time, so of two replicas claiming at once exactly one gets the row (the
 * other skips it rather than waiting), and a claimant that dies mid-send leaves a claim that expires. Only the
 * claim's owner may then record the outcome, as in the SQLite outbox (store/outbox.ts), whose semantics this
 * keeps: per-target order, backoff, Retry-After, give-up. Claims are never released wholesale at start: other
 * replicas may be sending.
 */
export class PostgresOutbox implements OutboxQueue {
  constructor(private readonly db: ControlDatabase) {}

  /** Writes a message, on `client` when it belongs to the transaction that decided it. */
  async enqueue(
    target: string,
    subject: string,
    request: OutgoingRequest,
    nowMs: number,
    client: Queryable = this.db.pool,
  ): Promise<void> {
    await client.query(
      `INSERT INTO control_outbox (target, subject, request, created_at_ms, next_attempt_ms)
       VALUES ($1, $2, $3, $4, $4)`,
      [target, subject, JSON.stringify(request), nowMs],
    );
  }

  async pendingTargets(): Promise<string[]> {
    const { rows } = await this.db.pool.query<{ target: string }>(
      `SELECT DISTINCT target FROM control_outbox WHERE state = 'pending'`,
    );
    return rows.map((row) => row.target);
  }

  async head(target: string): Promise<OutboxEntry | undefined> {
    const { rows } = await this.db.pool.query<OutboxRow>(
      `SELECT * FROM control_outbox WHERE state = 'pending' AND target = $1 ORDER BY id LIMIT 1`,
      [target],
    );
    return rows[0] && fromRow(rows[0]);
  }

  /**
   * Claims message `id` (the head the dispatcher read): never a later one of the target, so a head another
   * replica holds keeps the target's order. Undefined when another holds an unexpired claim, or has the row
   * locked this moment, or it is no longer pending.
   */
  claim(id: number, owner: string, nowMs: number, untilMs: number): Promise<OutboxEntry | undefined> {
    return this.db.transaction(async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `SELECT id FROM control_outbox
         WHERE id = $1 AND state = 'pending' AND (claim_owner IS NULL OR claim_until_ms <= $2)
         FOR UPDATE SKIP LOCKED`,
        [id, nowMs],
      );
      if (rows.length === 0) return undefined;
      const claimed = await client.query<OutboxRow>(
        `UPDATE control_outbox SET claim_owner = $2, claim_until_ms = $3 WHERE id = $1 RETURNING *`,
        [id, owner, untilMs],
      );
      return claimed.rows[0] && fromRow(claimed.rows[0]);
    });
  }

  async retryLater(id: number, owner: string, nextAttemptMs: number, error: string): Promise<boolean> {
    const { rowCount } = await this.db.pool.query(
      `UPDATE control_outbox SET attempts = attempts + 1, next_attempt_ms = $1, last_error = $2,
         claim_owner = NULL, claim_until_ms = NULL
       WHERE id = $3 AND claim_owner = $4`,
      [nextAttemptMs, error, id, owner],
    );
    return (rowCount ?? 0) > 0;
  }

  async delivered(id: number, owner: string, nowMs: number): Promise<boolean> {
    const { rowCount } = await this.db.pool.query(FINISH, ['delivered', nowMs, null, id, owner]);
    return (rowCount ?? 0) > 0;
  }

  async failed(id: number, owner: string, nowMs: number, error: string): Promise<boolean> {
    const { rowCount } = await this.db.pool.query(FINISH, ['failed', nowMs, error, id, owner]);
    return (rowCount ?? 0) > 0;
  }

  /** Messages in id order, of one state or all (inspection and tests). */
  async list(state?: OutboxState): Promise<OutboxEntry[]> {
    const { rows } = await this.db.pool.query<OutboxRow>(
      `SELECT * FROM control_outbox WHERE ($1::text IS NULL OR state = $1) ORDER BY id`,
      [state ?? null],
    );
    return rows.map(fromRow);
  }

  async prune(beforeMs: number): Promise<number> {
    const { rowCount } = await this.db.pool.query(
      `DELETE FROM control_outbox WHERE state <> 'pending' AND finished_at_ms < $1`,
      [beforeMs],
    );
    return rowCount ?? 0;
  }
}
