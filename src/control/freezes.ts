import type pg from 'pg';
import { type FreezeScope, type FreezeState, freezeKey } from '../store/gateFreezes.js';
import { type ControlDatabase, type ControlLog, lockChangeOrder } from './database.js';
import { RetriedWrite } from './retriedWrite.js';

interface FreezeRow {
  service: string;
  environment: string;
  frozen: boolean;
  changed_at_ms: string;
  revision: string;
}

const fromRow = (row: FreezeRow): FreezeState => ({
  service: row.service,
  environment: row.environment,
  frozen: row.frozen,
  changedAtMs: Number(row.changed_at_ms),
});

/**
 * Freeze changes waiting to be shared at most: one per scope, and scopes are capped per service
 * (`gateRetention.maxEnvironments`), so this bound is reached only by a registry of thousands of services.
 */
export const MAX_UNSHARED_FREEZES = 10_000;

/** The last state of each scope, in the order given: one statement may change a row only once. */
const lastPerScope = (states: Iterable<FreezeState>): FreezeState[] => [
  ...new Map([...states].map((state) => [freezeKey(state), state])).values(),
];

/**
 * Records freezes and thaws in the transaction under way on `client`; a row already in that state keeps the
 * time it changed. Takes the freezes' change-order lock, held until the transaction ends.
 */
export async function upsertFreezes(client: pg.ClientBase, states: Iterable<FreezeState>): Promise<void> {
  const rows = lastPerScope(states);
  if (rows.length === 0) return;
  await lockChangeOrder(client, 'freezes');
  await client.query(
    `INSERT INTO control_gate_freezes (service, environment, frozen, changed_at_ms)
     SELECT * FROM jsonb_to_recordset($1::jsonb)
       AS r(service text, environment text, frozen boolean, changed_at_ms bigint)
     ON CONFLICT (service, environment) DO UPDATE SET frozen = excluded.frozen,
       changed_at_ms = excluded.changed_at_ms, revision = nextval('control_freeze_revisions')
     WHERE control_gate_freezes.frozen <> excluded.frozen`,
    [
      JSON.stringify(
        rows.map((state) => ({
          service: state.service,
          environment: state.environment,
          frozen: state.frozen,
          changed_at_ms: state.changedAtMs,
        })),
      ),
    ],
  );
}

export interface SharedFreezesOptions {
  /**
   * Whether a change still waiting to be shared is this replica's state of its scope; one another replica's
   * later change replaced (adopted from the shared table) is dropped, never written over it.
   */
  isCurrent?: (state: FreezeState) => boolean;
  log?: Pick<ControlLog, 'warn'>;
}

/**
 * The gate's freezes in PostgreSQL. Each replica keeps its own store as the copy its synchronous decisions
 * read; a decision first adopts the scope's shared state, and every change is written here with INSERT ...
 * ON CONFLICT, numbered so other replicas read it. A decision's change commits with its audit row
 * (control/decisions.ts); the lease holder's refresh after a tick is shared with `share`, retried until it
 * is written or superseded.
 */
export class SharedFreezes {
  /** The newest change read so far: each read of changes asks only for those since. */
  private seenRevision = 0;
  /** The refresh's changes not written yet, by scope, oldest first. */
  private readonly unshared = new Map<string, FreezeState>();
  private readonly writer: RetriedWrite;
  private readonly isCurrent: (state: FreezeState) => boolean;
  private readonly log: Pick<ControlLog, 'warn'> | undefined;

  constructor(
    private readonly db: ControlDatabase,
    options: SharedFreezesOptions = {},
  ) {
    this.isCurrent = options.isCurrent ?? (() => true);
    this.log = options.log;
    this.writer = new RetriedWrite(
      () => this.writeWaiting(),
      (error, failures) =>
        this.log?.warn(
          { err: error, waiting: this.unshared.size, failures },
          'freeze changes not shared yet; retrying',
        ),
    );
  }

  async get(scope: FreezeScope): Promise<FreezeState | undefined> {
    const { rows } = await this.db.pool.query<FreezeRow>(
      'SELECT * FROM control_gate_freezes WHERE service = $1 AND environment = $2',
      [scope.service, scope.environment],
    );
    return rows[0] && fromRow(rows[0]);
  }

  /**
   * Shares a change (the holder's refresh after a tick) without waiting: written at once, and after a failure
   * again with a growing pause (RetriedWrite) until PostgreSQL takes it or a newer state of the scope
   * replaces it. At most MAX_UNSHARED_FREEZES wait; past that the oldest is dropped, and logged.
   */
  share(state: FreezeState): void {
    const key = freezeKey(state);
    this.unshared.delete(key);
    this.unshared.set(key, state);
    if (this.unshared.size > MAX_UNSHARED_FREEZES) {
      const [oldestKey, oldest] = this.unshared.entries().next().value as [string, FreezeState];
      this.unshared.delete(oldestKey);
      this.log?.warn(
        { dropped: oldest, cap: MAX_UNSHARED_FREEZES },
        'freeze change not shared: too many waiting',
      );
    }
    this.writer.poke();
  }

  /** How many changes wait to be shared. */
  get waiting(): number {
    return this.unshared.size;
  }

  /** Resolves once the write under way (if any) has ended. */
  settled(): Promise<void> {
    return this.writer.settled();
  }

  /** No more writes or retries (the replica stops); what waits is not shared. */
  stop(): Promise<void> {
    return this.writer.stop();
  }

  /** Writes the waiting changes in one transaction; resolves whether some still wait (changed meanwhile). */
  private async writeWaiting(): Promise<boolean> {
    for (const [key, state] of this.unshared) if (!this.isCurrent(state)) this.unshared.delete(key);
    const states = [...this.unshared.values()];
    if (states.length === 0) return false;
    await this.db.transaction((client) => upsertFreezes(client, states));
    // A scope changed again during the write waits for the next one.
    for (const state of states)
      if (this.unshared.get(freezeKey(state)) === state) this.unshared.delete(freezeKey(state));
    return this.unshared.size > 0;
  }

  /** The states changed since the last read, in change order (at most `limit`, the rest on the next read). */
  async changes(limit = 10_000): Promise<FreezeState[]> {
    const { rows } = await this.db.pool.query<FreezeRow>(
      'SELECT * FROM control_gate_freezes WHERE revision > $1 ORDER BY revision LIMIT $2',
      [this.seenRevision, limit],
    );
    for (const row of rows) this.seenRevision = Math.max(this.seenRevision, Number(row.revision));
    return rows.map(fromRow);
  }
}
