import type { AlertEpisode } from '../model/alert.js';
import type { Db } from './database.js';

/** The open alert episode of each SLO, so a restart neither re-announces nor forgets an alert. */
export class AlertEpisodeStore {
  private readonly statements;

  constructor(private readonly db: Db) {
    this.statements = {
      get: db.prepare<[string], { episode: string }>(`SELECT episode FROM alert_episodes WHERE slo = ?`),
      all: db.prepare<[], { episode: string }>(`SELECT episode FROM alert_episodes ORDER BY slo`),
      put: db.prepare<[string, string]>(
        `INSERT INTO alert_episodes (slo, episode) VALUES (?, ?)
         ON CONFLICT(slo) DO UPDATE SET episode = excluded.episode`,
      ),
      remove: db.prepare<[string]>(`DELETE FROM alert_episodes WHERE slo = ?`),
    };
  }

  get(slo: string): AlertEpisode | undefined {
    const row = this.statements.get.get(slo);
    return row ? (JSON.parse(row.episode) as AlertEpisode) : undefined;
  }

  all(): AlertEpisode[] {
    return this.statements.all.all().map((row) => JSON.parse(row.episode) as AlertEpisode);
  }

  /** Keeps `episode` for `slo`, or forgets the SLO's episode when undefined (resolved). */
  set(slo: string, episode: AlertEpisode | undefined): void {
    if (episode) this.statements.put.run(slo, JSON.stringify(episode));
    else this.statements.remove.run(slo);
  }

  /** Runs `work` in one transaction: an episode change and the messages it causes commit together. */
  atomically(work: () => void): void {
    this.db.transaction(work)();
  }
}

/**
 * What alerting (alert/alerting.ts) needs of the open episodes: this store, or the lease holder's copy of the
 * replicas' shared ones (control/alertState.ts).
 */
export type AlertEpisodes = Pick<AlertEpisodeStore, 'get' | 'all' | 'set' | 'atomically'>;

/** A burn that began before its alert opened, as the store keeps it (see `BurnStart` in alert/state.ts). */
export interface StoredBurn {
  startedAtMs: number;
  badEventsBefore: number;
}

/** Each SLO's burn in progress, so a restart before its alert opens still counts the spend from its start. */
export class AlertBurnStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      all: db.prepare<[], { slo: string; started_at_ms: number; bad_events_before: number }>(
        `SELECT slo, started_at_ms, bad_events_before FROM alert_burns`,
      ),
      put: db.prepare<[string, number, number]>(
        `INSERT OR REPLACE INTO alert_burns (slo, started_at_ms, bad_events_before) VALUES (?, ?, ?)`,
      ),
      remove: db.prepare<[string]>(`DELETE FROM alert_burns WHERE slo = ?`),
    };
  }

  all(): Map<string, StoredBurn> {
    return new Map(
      this.statements.all
        .all()
        .map((row) => [row.slo, { startedAtMs: row.started_at_ms, badEventsBefore: row.bad_events_before }]),
    );
  }

  /** Keeps `burn` for `slo`, or forgets the SLO's burn when undefined (it ended). */
  set(slo: string, burn: StoredBurn | undefined): void {
    if (burn) this.statements.put.run(slo, burn.startedAtMs, burn.badEventsBefore);
    else this.statements.remove.run(slo);
  }
}

/** What alerting needs of the burns in progress (as `AlertEpisodes`). */
export type AlertBurns = Pick<AlertBurnStore, 'all' | 'set'>;
