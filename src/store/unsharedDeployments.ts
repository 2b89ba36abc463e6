import type { Db } from './database.js';
import type { Deployment } from './deployments.js';

/** A deployment waiting to be shared, with its place in the queue. */
export interface WaitingDeployment {
  seq: number;
  deployment: Deployment;
}

/**
 * The deployment markers and reports a replica stored and has not yet written to the shared PostgreSQL, in the
 * order they were stored, kept in its SQLite file so a restart sends them too. At most `cap`: past it the
 * oldest are dropped (`add` says how many).
 */
export class UnsharedDeployments {
  private readonly statements;

  constructor(
    db: Db,
    readonly cap: number,
  ) {
    this.statements = {
      add: db.prepare<[string]>('INSERT INTO deployments_unshared (deployment) VALUES (?)'),
      count: db.prepare<[], number>('SELECT count(*) FROM deployments_unshared').pluck(true),
      dropOldest: db.prepare<[number]>(
        'DELETE FROM deployments_unshared WHERE seq IN (SELECT seq FROM deployments_unshared ORDER BY seq LIMIT ?)',
      ),
      oldest: db.prepare<[number], { seq: number; deployment: string }>(
        'SELECT seq, deployment FROM deployments_unshared ORDER BY seq LIMIT ?',
      ),
      remove: db.prepare<[number]>('DELETE FROM deployments_unshared WHERE seq = ?'),
    };
  }

  /** Queues a deployment; returns how many of the oldest were dropped to stay within the cap. */
  add(deployment: Deployment): number {
    this.statements.add.run(JSON.stringify(deployment));
    const over = this.size - this.cap;
    if (over <= 0) return 0;
    this.statements.dropOldest.run(over);
    return over;
  }

  /** The oldest `limit` waiting, oldest first. */
  oldest(limit: number): WaitingDeployment[] {
    return this.statements.oldest
      .all(limit)
      .map((row) => ({ seq: row.seq, deployment: JSON.parse(row.deployment) as Deployment }));
  }

  /** Drops one once PostgreSQL has it. */
  remove(seq: number): void {
    this.statements.remove.run(seq);
  }

  get size(): number {
    return this.statements.count.get() as number;
  }
}
