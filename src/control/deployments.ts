import client, { type Registry } from 'prom-client';
import type { ChangeType } from '../model/gate.js';
import { retentionCutoff } from '../store/auditTrail.js';
import type { Deployment, DeploymentStore } from '../store/deployments.js';
import type { UnsharedDeployments } from '../store/unsharedDeployments.js';
import { PAGE, PAGES_PER_REFRESH } from './changes.js';
import type { ControlDatabase, ControlLog } from './database.js';
import { RetriedWrite } from './retriedWrite.js';

/** Markers and reports a replica keeps waiting for PostgreSQL at most; past it the oldest are dropped. */
export const MAX_UNSHARED_DEPLOYMENTS = 10_000;

/** Waiting deployments one run writes at most, in order: a long queue drains over runs that follow at once. */
const SHARE_BATCH = 100;

/** A row as node-postgres returns it: bigint and xid8 as strings. */
interface DeploymentRow {
  id: string;
  service: string;
  environment: string;
  version: string;
  deployed_at_ms: string;
  decision_id: string | null;
  source: Deployment['source'];
  change_type: ChangeType;
  commit_at_ms: string | null;
  xact: string;
}

const fromRow = (row: DeploymentRow): Deployment => ({
  id: row.id,
  service: row.service,
  environment: row.environment,
  version: row.version,
  deployedAtMs: Number(row.deployed_at_ms),
  decisionId: row.decision_id,
  source: row.source,
  changeType: row.change_type,
  commitAtMs: row.commit_at_ms === null ? null : Number(row.commit_at_ms),
});

/**
 * The deployment markers in PostgreSQL (docs/scaling.md#a-replicated-control-plane). Every replica writes the
 * markers its gate sets and the reports its CI route takes, and copies the others' into its own store, which
 * the deployment API, the delivery figures, history and alerting read as on one process.
 */
export class SharedDeployments {
  /** The writing transaction read from: every row of an older one is copied. */
  private readFrom = '0';

  constructor(
    private readonly db: ControlDatabase,
    private readonly into: DeploymentStore,
  ) {}

  /**
   * Shares a deployment this replica stored. A report replaces its decision's marker in the same statement;
   * a marker for a release another replica marked first is dropped, as one process keeps the first.
   */
  async write(deployment: Deployment): Promise<void> {
    await this.db.pool.query(
      `WITH replaced AS (
         DELETE FROM control_deployments WHERE $8 = 'api' AND decision_id = $7 AND source = 'gate'
       )
       INSERT INTO control_deployments (id, service, environment, version, deployed_at_ms, commit_at_ms,
         decision_id, source, change_type)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [
        deployment.id,
        deployment.service,
        deployment.environment,
        deployment.version,
        deployment.deployedAtMs,
        deployment.commitAtMs,
        deployment.decisionId,
        deployment.source,
        deployment.changeType,
      ],
    );
  }

  /**
   * Copies the rows written since the last refresh; returns how many. Only transactions older than the
   * oldest one still running are read, so a row committed late is never passed over (a long transaction
   * elsewhere in the database delays the copy, it loses nothing).
   */
  async refresh(): Promise<number> {
    let copied = 0;
    for (let page = 0; page < PAGES_PER_REFRESH; page++) {
      const { rows } = await this.db.pool.query<DeploymentRow & { settled: string }>(
        `SELECT d.*, s.settled FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS settled) s
         LEFT JOIN control_deployments d ON d.xact >= $1::xid8 AND d.xact < s.settled
         ORDER BY d.xact, d.id LIMIT $2`,
        [this.readFrom, PAGE],
      );
      const found = rows.filter((row) => row.id !== null);
      for (const row of found) this.into.adopt(fromRow(row));
      copied += found.length;
      // A full page re-reads its last transaction next (adopting a row twice keeps one); otherwise every
      // transaction before the settled point is copied.
      if (found.length < PAGE) {
        if (rows[0]) this.readFrom = rows[0].settled;
        break;
      }
      this.readFrom = (found.at(-1) as DeploymentRow).xact;
    }
    return copied;
  }

  /** Retention of the shared markers, as each replica prunes its own: any replica may run it. */
  async prune(beforeMs: number, keep: number): Promise<number> {
    const { rows } = await this.db.pool.query<{ deployed_at_ms: string }>(
      'SELECT deployed_at_ms FROM control_deployments ORDER BY deployed_at_ms DESC LIMIT 1 OFFSET $1',
      [keep],
    );
    const cutoff = retentionCutoff(beforeMs, rows[0] && Number(rows[0].deployed_at_ms));
    const { rowCount } = await this.db.pool.query(
      'DELETE FROM control_deployments WHERE deployed_at_ms < $1',
      [cutoff],
    );
    return rowCount ?? 0;
  }
}

/**
 * Shares the deployments this replica stores: each is queued in its SQLite file (in the transaction that stores
 * it, so it survives a restart), then written to PostgreSQL in the order stored. A write that fails is retried
 * with a growing pause (RetriedWrite) until PostgreSQL takes it; in order, so a report written after its marker
 * replaces it there too, and a write sent twice keeps one row (ids and the first marker of a release are
 * unique). At most MAX_UNSHARED_DEPLOYMENTS wait: past it the oldest are dropped, logged and counted.
 */
export class DeploymentSharing {
  private readonly writer: RetriedWrite;
  /** Dropped past the cap since this process started. */
  private dropped = 0;

  constructor(
    private readonly shared: SharedDeployments,
    private readonly queue: UnsharedDeployments,
    private readonly log: Pick<ControlLog, 'warn'>,
  ) {
    this.writer = new RetriedWrite(
      () => this.sendWaiting(),
      (error, failures) =>
        log.warn(
          { err: error, waiting: queue.size, failures },
          'deployments not shared yet; other replicas miss them until a retry succeeds',
        ),
    );
  }

  /** Queues a deployment this replica stored (call in the SQLite transaction that stores it) and sends it. */
  add(deployment: Deployment): void {
    const dropped = this.queue.add(deployment);
    if (dropped > 0) {
      this.dropped += dropped;
      this.log.warn(
        { dropped, cap: this.queue.cap },
        'deployments not shared: the oldest waiting were dropped; other replicas miss them',
      );
    }
    this.writer.poke();
  }

  /** Sends what waits, left by a previous run too. */
  start(): void {
    this.writer.poke();
  }

  stop(): Promise<void> {
    return this.writer.stop();
  }

  get waiting(): number {
    return this.queue.size;
  }

  /** `sloguard_control_deployments_unshared` and `..._dropped_total` in /metrics. */
  meter(registry: Registry): void {
    const sharing = this;
    new client.Gauge({
      name: 'sloguard_control_deployments_unshared',
      help: 'Deployment markers and reports stored here and waiting to be written to the shared PostgreSQL.',
      registers: [registry],
      collect() {
        this.set(sharing.waiting);
      },
    });
    new client.Counter({
      name: 'sloguard_control_deployments_dropped_total',
      help: 'Deployment markers and reports dropped unshared: more than the cap (10,000) waited for PostgreSQL.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(sharing.dropped);
      },
    });
  }

  private async sendWaiting(): Promise<boolean> {
    for (const { seq, deployment } of this.queue.oldest(SHARE_BATCH)) {
      await this.shared.write(deployment);
      this.queue.remove(seq);
    }
    return this.queue.size > 0;
  }
}
