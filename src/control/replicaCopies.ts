import type { AlertEpisode } from '../model/alert.js';
import { RepeatingJob } from '../repeatingJob.js';
import type { AlertEpisodes } from '../store/alertEpisodes.js';
import type { SharedCorrections } from './corrections.js';
import type { ControlDatabase, ControlLog } from './database.js';
import type { SharedDeployments } from './deployments.js';
import type { SharedIncidents } from './incidents.js';

/** How often a replica copies the incident history, corrections and deployments from the control database. */
export const REPLICA_COPY_MS = 2_000;

/** Open alert episodes are one row per SLO alerting: the copy takes them whole. */
const MAX_OPEN_EPISODES = 100_000;

/**
 * Every replica's copies of what lives in the control database but is read synchronously where it is used:
 * the incident history (API, `/metrics`, reports), the corrections (evaluator, API), the deployment markers
 * (deployment API, delivery figures, history, alerting's last deployment) and the open alert episodes (the
 * open alert an SLO's chart shows). One job, so a slow
 * database holds one read at a time; a failed read is logged, and the next catches up from where the last
 * one stopped.
 */
export class ReplicaCopies {
  private readonly job: RepeatingJob;

  constructor(
    private readonly db: ControlDatabase,
    private readonly incidents: SharedIncidents,
    private readonly corrections: SharedCorrections,
    private readonly deployments: SharedDeployments,
    /** The replica's own episode store, which the lease holder's alerting does not write on replicas. */
    private readonly openEpisodes: AlertEpisodes,
    log: Pick<ControlLog, 'warn'>,
    intervalMs = REPLICA_COPY_MS,
  ) {
    this.job = new RepeatingJob(
      () => this.refresh(),
      intervalMs,
      (error) => log.warn({ err: error }, 'incidents, corrections and deployments not copied; retrying'),
    );
  }

  async refresh(): Promise<void> {
    await this.incidents.refresh();
    await this.corrections.refresh();
    await this.deployments.refresh();
    await this.copyOpenEpisodes();
  }

  private async copyOpenEpisodes(): Promise<void> {
    const { rows } = await this.db.pool.query<{ episode: string }>(
      'SELECT episode FROM control_alert_episodes LIMIT $1',
      [MAX_OPEN_EPISODES],
    );
    const open = new Map(
      rows.map((row) => {
        const episode = JSON.parse(row.episode) as AlertEpisode;
        return [episode.slo, episode];
      }),
    );
    const kept = new Map(this.openEpisodes.all().map((episode) => [episode.slo, episode]));
    this.openEpisodes.atomically(() => {
      for (const slo of kept.keys()) if (!open.has(slo)) this.openEpisodes.set(slo, undefined);
      // Written only when changed: most copies find every open alert as it was.
      for (const [slo, episode] of open)
        if (JSON.stringify(kept.get(slo)) !== JSON.stringify(episode)) this.openEpisodes.set(slo, episode);
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
