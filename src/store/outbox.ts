import type { OutgoingRequest } from '../model/notification.js';
import type { Db } from './database.js';

export type OutboxState = 'pending' | 'delivered' | 'failed';

/** One message to one target, kept until it is delivered or given up. */
export interface OutboxEntry {
  id: number;
  target: string;
  /** What it is about, for logs: never the URL. */
  subject: string;
  request: OutgoingRequest;
  createdAtMs: number;
  nextAttemptMs: number;
  attempts: number;
  lastError: string | null;
  state: OutboxState;
}

interface OutboxRow {
  id: number;
  target: string;
  subject: string;
  request: string;
  created_at_ms: number;
  next_attempt_ms: number;
  attempts: number;
  last_error: string | null;
  state: OutboxState;
}

const fromRow = (row: OutboxRow): OutboxEntry => ({
  id: row.id,
  target: row.target,
  subject: row.subject,
  request: JSON.parse(row.request) as OutgoingRequest,
  createdAtMs: row.created_at_ms,
  nextAttemptMs: row.next_attempt_ms,
  attempts: row.attempts,
  lastError: row.last_error,
  state: row.state,
});

/** A value now (SQLite answers synchronously) or later (PostgreSQL). */
export type Awaitable<T> = T | Promise<T>;

/**
 * What the dispatcher (alert/outbox.ts) needs of an outbox, whichever database holds it: this SQLite store, or
 * the PostgreSQL one replicas share (control/outbox.ts). A claim is the only way to a send, and only its owner
 * records the outcome, so two senders on one outbox never both send a message while their claims hold.
 */
export interface OutboxQueue {
  /** Targets with something to send. */
  pendingTargets(): Awaitable<string[]>;
  /** The oldest pending message of a target. */
  head(target: string): Awaitable<OutboxEntry | undefined>;
  /** Claims a pending, unclaimed (or expired-claim) message for `owner` until `untilMs`. */
  claim(id: number, owner: string, nowMs: number, untilMs: number): Awaitable<OutboxEntry | undefined>;
  retryLater(id: number, owner: string, nextAttemptMs: number, error: string): Awaitable<boolean>;
  delivered(id: number, owner: string, nowMs: number): Awaitable<boolean>;
  failed(id: number, owner: string, nowMs: number, error: string): Awaitable<boolean>;
  /** Drops finished messages older than `beforeMs`. */
  prune(beforeMs: number): Awaitable<number>;
}

/** The durable outbox: messages are written in the transaction that decides them and sent from here. */
export class OutboxStore implements OutboxQueue {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      insert: db.prepare<[string, string, string, number, number]>(
        `INSERT INTO alert_outbox (target, subject, request, created_at_ms, next_attempt_ms) VALUES (?, ?, ?, ?, ?)`,
      ),
      targets: db.prepare<[], { target: string }>(
        `SELECT DISTINCT target FROM alert_outbox WHERE state = 'pending'`,
      ),
      head: db.prepare<[string], OutboxRow>(
        `SELECT * FROM alert_outbox WHERE state = 'pending' AND target = ? ORDER BY id LIMIT 1`,
      ),
      claim: db.prepare<{ id: number; owner: string; now: number; until: number }, OutboxRow>(
        `UPDATE alert_outbox SET claim_owner = @owner, claim_until_ms = @until
         WHERE id = @id AND state = 'pending' AND (claim_owner IS NULL OR claim_until_ms <= @now)
         RETURNING *`,
      ),
      attempted: db.prepare<[number, string, number, string]>(
        `UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ?,
         claim_owner = NULL, claim_until_ms = NULL
         WHERE id = ? AND claim_owner = ?`,
      ),
      finish: db.prepare<[OutboxState, number, string | null, number, string]>(
        `UPDATE alert_outbox SET state = ?, attempts = attempts + 1, finished_at_ms = ?, last_error = ?,
         claim_owner = NULL, claim_until_ms = NULL
         WHERE id = ? AND claim_owner = ?`,
      ),
      list: db.prepare<{ state: string | null }, OutboxRow>(
        `SELECT * FROM alert_outbox WHERE (@state IS NULL OR state = @state) ORDER BY id`,
      ),
      releaseClaims: db.prepare(
        `UPDATE alert_outbox SET claim_owner = NULL, claim_until_ms = NULL
         WHERE state = 'pending' AND claim_owner IS NOT NULL`,
      ),
      prune: db.prepare<[number]>(
        `DELETE FROM alert_outbox WHERE state IN ('delivered', 'failed') AND finished_at_ms < ?`,
      ),
    };
  }

  enqueue(target: string, subject: string, request: OutgoingRequest, nowMs: number): void {
    this.statements.insert.run(target, subject, JSON.stringify(request), nowMs, nowMs);
  }

  /** Targets with something to send. */
  pendingTargets(): string[] {
    return this.statements.targets.all().map((row) => row.target);
  }

  /** The oldest pending message of a target: a target's messages go out in order. */
  head(target: string): OutboxEntry | undefined {
    const row = this.statements.head.get(target);
    return row ? fromRow(row) : undefined;
  }

  /**
   * Releases every claim. Only for a sender that knows it is the only one (the service, holding the database
   * lock): claims left by a killed predecessor are taken over at once instead of after their lease.
   */
  releaseClaims(): number {
    return this.statements.releaseClaims.run().changes;
  }

  /**
   * Claims a pending message for `owner` until `untilMs`, or undefined when another sender holds an unexpired
   * claim on it (or it is no longer pending). Only the claim's owner may then record what came of it.
   */
  claim(id: number, owner: string, nowMs: number, untilMs: number): OutboxEntry | undefined {
    const row = this.statements.claim.get({ id, owner, now: nowMs, until: untilMs });
    return row ? fromRow(row) : undefined;
  }

  /** The following record what came of a claimed message and release the claim; false if it was lost. */
  retryLater(id: number, owner: string, nextAttemptMs: number, error: string): boolean {
    return this.statements.attempted.run(nextAttemptMs, error, id, owner).changes > 0;
  }

  delivered(id: number, owner: string, nowMs: number): boolean {
    return this.statements.finish.run('delivered', nowMs, null, id, owner).changes > 0;
  }

  failed(id: number, owner: string, nowMs: number, error: string): boolean {
    return this.statements.finish.run('failed', nowMs, error, id, owner).changes > 0;
  }

  list(state?: OutboxState): OutboxEntry[] {
    return this.statements.list.all({ state: state ?? null }).map(fromRow);
  }

  /** Drops finished messages older than `beforeMs`; pending ones stay whatever their age. */
  prune(beforeMs: number): number {
    return this.statements.prune.run(beforeMs).changes;
  }
}

/** The outbox as alerting uses it: messages written (in the transaction of the alert change) and sent. */
export type AlertOutbox = OutboxQueue & Pick<OutboxStore, 'enqueue'>;
