import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { ControlPostgres } from '../config/control.js';
import { RepeatingJob } from '../repeatingJob.js';
import { type ControlLog, connectionConfig } from './database.js';

/** The advisory lock key of the evaluator lease ("sloguard evaluator" folded into a bigint). */
export const EVALUATOR_LEASE_KEY = 0x736c6f6765766131n;

/**
 * How the server notices a holder whose host vanished (no FIN, no RST): TCP keepalives on the lease
 * connection, probing after this much silence, this often, this many times. PostgreSQL then ends the session
 * and frees the lock: at most idle + interval × count = 10 s after the last sign of life (docs/scaling.md).
 */
export const LEASE_KEEPALIVE = { idleS: 5, intervalS: 1, count: 5 } as const;

export interface LeaseEvents {
  /** This replica now holds the lease: it evaluates and alerts. */
  gained: [];
  /** It no longer does (its connection failed, a check timed out, or stop). */
  lost: [reason: string];
}

/**
 * The evaluator lease: one replica at a time evaluates and alerts. It is a session-level
 * `pg_try_advisory_lock` on a connection of its own, held while that connection lives: a holder that is
 * killed closes its socket and PostgreSQL frees the lock at once; one whose host vanishes is found by the
 * keepalives above. The others try every `leaseCheckMs`. The holder checks its connection as often and gives
 * the lease up the moment the connection errors or a check does not answer within the statement limit,
 * which is sooner than the server frees the lock, so two replicas never both believe they hold it.
 */
export class EvaluatorLease extends EventEmitter<LeaseEvents> {
  private client: pg.Client | undefined;
  private holder = false;
  private backendPid: number | undefined;
  private readonly job: RepeatingJob;

  constructor(
    private readonly settings: ControlPostgres,
    private readonly log: ControlLog,
    private readonly key = EVALUATOR_LEASE_KEY,
  ) {
    super();
    this.job = new RepeatingJob(
      () => this.check(),
      settings.leaseCheckMs,
      (error) => this.log.warn({ err: error }, 'evaluator lease: check failed'),
    );
  }

  isHolder(): boolean {
    return this.holder;
  }

  /** The server process holding the lock for this replica while it is the holder (writes are fenced on it). */
  holderPid(): number | undefined {
    return this.holder ? this.backendPid : undefined;
  }

  /** Tries at once, then every `leaseCheckMs`. */
  start(): void {
    this.job.start();
  }

  /** One try (or, for the holder, one check of its connection). */
  async check(): Promise<void> {
    if (this.job.stopped) return;
    try {
      const client = this.client ?? (await this.connect());
      if (this.holder) {
        await client.query('SELECT 1');
        return;
      }
      const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1) AS held', [
        this.key.toString(),
      ]);
      if (rows[0]?.held && !this.job.stopped && this.client === client) {
        this.holder = true;
        this.log.info({ pid: this.backendPid }, 'evaluator lease: gained, this replica evaluates and alerts');
        this.emit('gained');
      }
    } catch (error) {
      void this.drop(
        `the lease connection failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw error;
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(connectionConfig(this.settings));
    // Errors and ends come outside any query (the server went away): the lease is lost that moment.
    client.on('error', (error) => void this.drop(`the lease connection failed: ${error.message}`, client));
    client.on('end', () => void this.drop('the lease connection ended', client));
    this.client = client;
    await client.connect();
    const { idleS, intervalS, count } = LEASE_KEEPALIVE;
    await client.query(
      `SET tcp_keepalives_idle = ${idleS}; SET tcp_keepalives_interval = ${intervalS}; SET tcp_keepalives_count = ${count}`,
    );
    this.backendPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    return client;
  }

  /** Forgets the connection (ending it, which frees the lock) and, for the holder, the lease. */
  private drop(reason: string, client = this.client): Promise<void> {
    if (client === undefined || client !== this.client) return Promise.resolve();
    this.client = undefined;
    this.backendPid = undefined;
    const ended = client.end().catch(() => undefined);
    if (this.holder) {
      this.holder = false;
      this.log.warn({ reason }, 'evaluator lease: lost, this replica stops evaluating');
      this.emit('lost', reason);
    }
    return ended;
  }

  /** Stops trying and releases the lease (ending the session frees the lock for the next replica at once). */
  async stop(): Promise<void> {
    await this.job.stop();
    await this.drop('stopped');
  }
}
