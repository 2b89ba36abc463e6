import type { CurrentRegistry } from '../definitions/registry.js';
import type { SloStatus } from '../model/status.js';
import { SloEvaluator } from '../schedule/scheduler.js';
import type { CountsSource } from '../sources/counts.js';
import type { StatusStore } from '../store/statuses.js';
import type { ControlDatabase } from './database.js';
import { EVALUATOR_LEASE_KEY, type EvaluatorLease } from './lease.js';

/** The lease's advisory lock as pg_locks shows it: the key's high and low 32 bits. */
const LEASE_LOCK = {
  classid: (EVALUATOR_LEASE_KEY >> 32n).toString(),
  objid: (EVALUATOR_LEASE_KEY & 0xffffffffn).toString(),
};

/**
 * The statuses in PostgreSQL: the lease holder writes each tick's, every replica keeps a copy read from there.
 * A write is fenced on the lease: it lands only while the holder's lease session still holds the lock, so a
 * replica that lost the lease mid-tick cannot overwrite its successor's statuses.
 */
export class SharedStatuses {
  private readonly copy = new Map<string, SloStatus>();
  /** The newest write read so far: each refresh reads only what was written since. */
  private seenRevision = 0;

  constructor(private readonly db: ControlDatabase) {}

  /** Writes a tick's statuses in one statement; false when this replica no longer held the lease. */
  async write(statuses: readonly SloStatus[], holderPid: number): Promise<boolean> {
    if (statuses.length === 0) return true;
    const result = await this.db.pool.query(
      `INSERT INTO control_statuses (slo, evaluated_at_ms, status)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::jsonb[])
       WHERE EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $4
                     AND classid = $5::oid AND objid = $6::oid AND objsubid = 1)
       ON CONFLICT (slo) DO UPDATE SET evaluated_at_ms = excluded.evaluated_at_ms, status = excluded.status,
         revision = nextval('control_status_revisions')`,
      [
        statuses.map((status) => status.name),
        statuses.map((status) => status.evaluatedAtMs),
        statuses.map((status) => JSON.stringify(status)),
        holderPid,
        LEASE_LOCK.classid,
        LEASE_LOCK.objid,
      ],
    );
    return result.rowCount === statuses.length;
  }

  /** Reads the statuses written since the last refresh into the copy. */
  async refresh(): Promise<number> {
    const { rows } = await this.db.pool.query<{ status: SloStatus; revision: string }>(
      'SELECT status, revision FROM control_statuses WHERE revision > $1 ORDER BY revision',
      [this.seenRevision],
    );
    for (const row of rows) {
      this.copy.set(row.status.name, row.status);
      this.seenRevision = Math.max(this.seenRevision, Number(row.revision));
    }
    return rows.length;
  }

  get(name: string): SloStatus | undefined {
    return this.copy.get(name);
  }

  has(status: SloStatus): boolean {
    return this.copy.get(status.name) === status;
  }

  get size(): number {
    return this.copy.size;
  }
}

/**
 * The evaluator of a replica: it evaluates only while it holds the lease (the service starts and stops its
 * ticks), and answers from its own statuses only once it has evaluated since it gained the lease; otherwise
 * from the shared copy, judged stale by the wall clock (statuses come from another host) against the same
 * two intervals.
 */
export class ReplicaEvaluator extends SloEvaluator {
  private ownFresh = false;

  constructor(
    store: CountsSource,
    statuses: StatusStore,
    private readonly registry: CurrentRegistry,
    intervalMs: number,
    private readonly lease: EvaluatorLease,
    readonly shared: SharedStatuses,
  ) {
    super(store, statuses, registry, intervalMs);
    lease.on('gained', () => {
      this.ownFresh = false;
    });
    this.onEvaluated(() => {
      this.ownFresh = lease.isHolder();
    });
  }

  private own(): boolean {
    return this.ownFresh && this.lease.isHolder();
  }

  override status(name: string): SloStatus | undefined {
    return this.own() ? super.status(name) : this.shared.get(name);
  }

  override current(): SloStatus[] {
    if (this.own()) return super.current();
    return this.registry.registry.definitions.flatMap((d) => this.shared.get(d.name) ?? []);
  }

  override isStale(status: SloStatus, nowMs = Date.now()): boolean {
    if (!this.shared.has(status)) return super.isStale(status, nowMs);
    const ageMs = nowMs - status.evaluatedAtMs;
    return status.staleReason !== undefined || ageMs < 0 || ageMs > 2 * this.intervalMs;
  }

  override isFromLastRun(status: SloStatus): boolean {
    return !this.shared.has(status) && super.isFromLastRun(status);
  }

  override get hasEvaluated(): boolean {
    return this.own() || this.shared.size > 0;
  }
}
