import type { ChangeType } from '../model/gate.js';
import { retentionCutoff, type TrailQuery, trailParams } from './auditTrail.js';
import type { Db } from './database.js';

/** A release marker: what went out, where, when, and on which gate decision. */
export interface Deployment {
  id: string;
  service: string;
  /** '' when the caller named none. */
  environment: string;
  version: string;
  deployedAtMs: number;
  decisionId: string | null;
  source: 'api' | 'gate';
  changeType: ChangeType;
  /** When the change was committed, if the caller said (lead time for changes). */
  commitAtMs: number | null;
}

/** A deployment as a caller reports it: the kind of change defaults to feature, the commit time to unknown. */
export type NewDeployment = Omit<Deployment, 'source' | 'changeType' | 'commitAtMs'> &
  Partial<Pick<Deployment, 'changeType' | 'commitAtMs'>>;

interface DeploymentRow {
  id: string;
  service: string;
  environment: string;
  version: string;
  deployed_at_ms: number;
  decision_id: string | null;
  source: 'api' | 'gate';
  change_type: ChangeType;
  commit_at_ms: number | null;
}

const fromRow = (row: DeploymentRow): Deployment => ({
  id: row.id,
  service: row.service,
  environment: row.environment,
  version: row.version,
  deployedAtMs: row.deployed_at_ms,
  decisionId: row.decision_id,
  source: row.source,
  changeType: row.change_type,
  commitAtMs: row.commit_at_ms,
});

const complete = (deployment: NewDeployment, source: Deployment['source']): Deployment => ({
  ...deployment,
  source,
  changeType: deployment.changeType ?? 'feature',
  commitAtMs: deployment.commitAtMs ?? null,
});

export class DeploymentStore {
  private readonly statements;
  private written: ((deployment: Deployment) => void) | undefined;
  /** Runs a store and its listener in one transaction: a replica queues it for sharing with the row. */
  private readonly atomically: <T>(work: () => T) => T;

  constructor(db: Db) {
    this.atomically = (work) => db.transaction(work)();
    this.statements = {
      // OR IGNORE: a repeated gate call for the same release keeps its first marker (partial unique index).
      insert: db.prepare(
        `INSERT OR IGNORE INTO deployments (id, service, environment, version, deployed_at_ms, decision_id, source,
           change_type, commit_at_ms)
         VALUES (@id, @service, @environment, @version, @deployedAtMs, @decisionId, @source, @changeType, @commitAtMs)`,
      ),
      dropMarkerOf: db.prepare<[string]>(`DELETE FROM deployments WHERE decision_id = ? AND source = 'gate'`),
      markerOf: db.prepare<[string], Pick<DeploymentRow, 'change_type' | 'commit_at_ms'>>(
        `SELECT change_type, commit_at_ms FROM deployments WHERE decision_id = ? AND source = 'gate'`,
      ),
      newestBeyond: db
        .prepare<[number], number>(
          `SELECT deployed_at_ms FROM deployments ORDER BY deployed_at_ms DESC LIMIT 1 OFFSET ?`,
        )
        .pluck(true),
      deleteBefore: db.prepare<[number]>(`DELETE FROM deployments WHERE deployed_at_ms < ?`),
      list: db.prepare<{ service: string | null; from: number; to: number; limit: number }, DeploymentRow>(
        `SELECT * FROM deployments
         WHERE (@service IS NULL OR service = @service) AND deployed_at_ms >= @from AND deployed_at_ms < @to
         ORDER BY deployed_at_ms DESC, id DESC LIMIT @limit`,
      ),
    };
  }

  /** An automatic marker from an allowed gate call; false when this release already has one. */
  mark(deployment: NewDeployment): boolean {
    const marker = complete(deployment, 'gate');
    return this.atomically(() => {
      const added = this.statements.insert.run(marker).changes > 0;
      if (added) this.written?.(marker);
      return added;
    });
  }

  /**
   * A deployment reported by CI; it replaces the automatic marker of the same decision, keeping the marker's
   * change type and commit time when the report names none.
   */
  record(deployment: NewDeployment): Deployment {
    // The gate's marker knew the kind of change and the commit time: the report keeps them unless it says.
    const marker = deployment.decisionId ? this.statements.markerOf.get(deployment.decisionId) : undefined;
    const stored = complete(
      {
        ...deployment,
        changeType: deployment.changeType ?? marker?.change_type,
        commitAtMs: deployment.commitAtMs ?? marker?.commit_at_ms,
      },
      'api',
    );
    this.atomically(() => {
      this.adopt(stored);
      this.written?.(stored);
    });
    return stored;
  }

  /**
   * Saves a deployment as it was stored elsewhere (another replica's, copied from PostgreSQL): a report drops
   * the automatic marker of its decision; one already here is kept. Not told to the `onWritten` listener.
   */
  adopt(deployment: Deployment): void {
    if (deployment.source === 'api' && deployment.decisionId)
      this.statements.dropMarkerOf.run(deployment.decisionId);
    this.statements.insert.run(deployment);
  }

  /**
   * Tells `listener` every marker and report stored here first, in the transaction that stores it (replicas
   * queue them for sharing: control/deployments.ts).
   */
  onWritten(listener: (deployment: Deployment) => void): void {
    this.written = listener;
  }

  /** Retention: drops markers older than `beforeMs` and all but the newest `keep`. */
  prune(beforeMs: number, keep: number): number {
    const cutoff = retentionCutoff(beforeMs, this.statements.newestBeyond.get(keep));
    return this.statements.deleteBefore.run(cutoff).changes;
  }

  list(query: TrailQuery): Deployment[] {
    return this.statements.list.all(trailParams(query)).map(fromRow);
  }
}
