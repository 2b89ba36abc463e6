import { RepeatingJob } from '../repeatingJob.js';
import type { SharedCorrections } from './corrections.js';
import type { ControlLog } from './database.js';
import type { SharedIncidents } from './incidents.js';

/** How often a replica copies the incident history and corrections from the control database. */
export const REPLICA_COPY_MS = 2_000;

/**
 * Every replica's copies of what lives in the control database but is read synchronously where it is used:
 * the incident history (API, `/metrics`, reports) and the corrections (evaluator, API). One job, so a slow
 * database holds one read at a time; a failed read is logged, and the next catches up from where the last
 * one stopped.
 */
export class ReplicaCopies {
  private readonly job: RepeatingJob;

  constructor(
    private readonly incidents: SharedIncidents,
    private readonly corrections: SharedCorrections,
    log: Pick<ControlLog, 'warn'>,
    intervalMs = REPLICA_COPY_MS,
  ) {
    this.job = new RepeatingJob(
      () => this.refresh(),
      intervalMs,
      (error) => log.warn({ err: error }, 'incidents and corrections not copied; retrying'),
    );
  }

  async refresh(): Promise<void> {
    await this.incidents.refresh();
    await this.corrections.refresh();
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
