import pg from 'pg';
import type { ControlPostgres } from '../config/control.js';
import { CONTROL_SCHEMA, type SchemaStep } from './schema.js';

/**
 * The tables whose rows any replica changes and every replica copies by change number, each with its own
 * two-key advisory lock (a key space apart from the single-key locks of migrations and the lease).
 */
const CHANGE_ORDER = { freezes: 1, corrections: 2 } as const;
const CHANGE_ORDER_LOCK = 0x736c6f67; // "slog"
export type ChangeOrderedTable = keyof typeof CHANGE_ORDER;

/**
 * Takes a shared table's change-order lock in the transaction under way on `client`, until it ends: a write
 * that takes the table's next change number must hold it (`ControlDatabase.writeInChangeOrder`).
 */
export async function lockChangeOrder(client: pg.ClientBase, table: ChangeOrderedTable): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1, $2)', [CHANGE_ORDER_LOCK, CHANGE_ORDER[table]]);
}

/** The advisory lock key migrations run under ("sloguard" in ASCII, folded into a bigint). */
const MIGRATION_LOCK = 0x736c6f6775617264n;

/** How long a schema step may run. */
const MIGRATION_TIMEOUT_MS = 300_000;

/** Where the control database tells what it does (pino's shape). */
export interface ControlLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** The client settings every connection of a replica shares: bounded waits, a name in pg_stat_activity. */
export function connectionConfig(settings: ControlPostgres): pg.ClientConfig {
  return {
    connectionString: settings.url,
    ...(settings.password !== undefined && { password: settings.password }),
    application_name: 'sloguard',
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // The server cancels a statement past the limit; the client gives up a little later should the server
    // itself be unreachable.
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + 1_000,
    // A transaction left open (a replica that hangs mid-way) releases its row locks.
    idle_in_transaction_session_timeout: settings.statementTimeoutMs * 5,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
  };
}

/** The host, port and database of a URL, for logs: never its user or password. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** Steps in ascending order, each version once: a broken list fails the start, not a replica's schema. */
export function checkedSteps(steps: readonly SchemaStep[]): readonly SchemaStep[] {
  for (let i = 1; i < steps.length; i++)
    if (steps[i]!.version <= steps[i - 1]!.version)
      throw new Error(
        `control schema: version ${steps[i]!.version} follows ${steps[i - 1]!.version}; versions must ascend`,
      );
  return steps;
}

/**
 * The replicas' shared PostgreSQL: a bounded pool for statuses and gate state, the schema migration, and the
 * settings the lease's own connection is opened with.
 */
export class ControlDatabase {
  readonly pool: pg.Pool;

  constructor(
    readonly settings: ControlPostgres,
    private readonly log: ControlLog,
  ) {
    this.pool = new pg.Pool({
      ...connectionConfig(settings),
      max: settings.poolSize,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that breaks (server restart, network) is dropped from the pool; without a listener
    // the error would end the process.
    this.pool.on('error', (error) =>
      this.log.warn({ err: error }, 'control database: an idle connection failed'),
    );
  }

  get where(): string {
    return describeUrl(this.settings.url);
  }

  /**
   * Runs one write that takes a shared table's next change number, holding that table's lock until it
   * commits. Replicas copy "what changed since the last number read": without the lock, a number taken first
   * could commit last, after a replica had read past it, and that replica would never copy the row.
   */
  writeInChangeOrder(table: ChangeOrderedTable, text: string, values: unknown[]): Promise<pg.QueryResult> {
    return this.transaction(async (client) => {
      await lockChangeOrder(client, table);
      return client.query(text, values);
    });
  }

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A connection that breaks mid-way (server restart, session killed) fails the statement under way; without
    // a listener the error it also emits would end the process.
    const onError = (error: Error) => {
      broken = true;
      this.log.warn({ err: error }, 'control database: a connection failed in a transaction');
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      // A connection whose rollback failed is in an unknown state: destroyed, not reused.
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * Applies the schema steps this database lacks, in order, in one transaction under an advisory lock: two
   * replicas starting at once apply each step once, the second sees the first's work. Runs on a connection
   * of its own with a longer statement limit (a step may build an index on a big table). Returns the
   * versions applied.
   */
  async migrate(steps: readonly SchemaStep[] = CONTROL_SCHEMA): Promise<number[]> {
    const ordered = checkedSteps(steps);
    const client = new pg.Client({
      ...connectionConfig(this.settings),
      statement_timeout: MIGRATION_TIMEOUT_MS,
      query_timeout: MIGRATION_TIMEOUT_MS + 1_000,
    });
    client.on('error', (error) =>
      this.log.warn({ err: error }, 'control database: migration connection failed'),
    );
    await client.connect();
    let applied: number[];
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      await client.query(`
        CREATE TABLE IF NOT EXISTS control_schema (
          version integer PRIMARY KEY,
          description text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      const done = new Set(
        (await client.query<{ version: number }>('SELECT version FROM control_schema')).rows.map(
          (row) => row.version,
        ),
      );
      const missing = ordered.filter((step) => !done.has(step.version));
      for (const step of missing) {
        await client.query(step.sql);
        await client.query('INSERT INTO control_schema (version, description) VALUES ($1, $2)', [
          step.version,
          step.description,
        ]);
      }
      await client.query('COMMIT');
      applied = missing.map((step) => step.version);
    } finally {
      // Ending the session rolls back a transaction left open by a failed step.
      await client.end();
    }
    if (applied.length > 0)
      this.log.info({ versions: applied, database: this.where }, 'control database: schema migrated');
    return applied;
  }

  /** Ends every pooled connection (waits for those in use to be released). */
  async close(): Promise<void> {
    await this.pool.end();
  }
}
