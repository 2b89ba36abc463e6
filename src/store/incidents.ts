import type { Escalation, IncidentEpisode, Severity } from '../model/incident.js';
import type { Db } from './database.js';

interface EpisodeRow {
  id: string;
  slo: string;
  service: string;
  severity: Severity;
  burn_started_at_ms: number;
  detected_at_ms: number;
  resolved_at_ms: number | null;
  peak_burn_rate: number | null;
  budget_consumed: number | null;
  escalations: string;
}

const fromRow = (row: EpisodeRow): IncidentEpisode => ({
  id: row.id,
  slo: row.slo,
  service: row.service,
  severity: row.severity,
  burnStartedAtMs: row.burn_started_at_ms,
  detectedAtMs: row.detected_at_ms,
  escalations: JSON.parse(row.escalations) as Escalation[],
  resolvedAtMs: row.resolved_at_ms,
  peakBurnRate: row.peak_burn_rate,
  budgetConsumed: row.budget_consumed,
});

/** Episodes a listing returns at most: a range of years of a flapping service stays one bounded read. */
export const MAX_EPISODES = 10_000;

export interface EpisodeQuery {
  service?: string;
  slo?: string;
  /** Episodes still open at or after this time, or started in the range. */
  fromMs?: number;
  toMs?: number;
}

/** The incident history: every alert episode, open or resolved. */
export class IncidentStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      put: db.prepare(
        `INSERT INTO incident_episodes (id, slo, service, severity, burn_started_at_ms, detected_at_ms,
           resolved_at_ms, peak_burn_rate, budget_consumed, escalations)
         VALUES (@id, @slo, @service, @severity, @burnStartedAtMs, @detectedAtMs, @resolvedAtMs, @peakBurnRate,
           @budgetConsumed, @escalations)
         ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, resolved_at_ms = excluded.resolved_at_ms,
           peak_burn_rate = excluded.peak_burn_rate, budget_consumed = excluded.budget_consumed,
           escalations = excluded.escalations`,
      ),
      list: db.prepare<
        { service: string | null; slo: string | null; from: number; to: number; limit: number },
        EpisodeRow
      >(
        `SELECT * FROM incident_episodes
         WHERE (@service IS NULL OR service = @service) AND (@slo IS NULL OR slo = @slo)
           AND burn_started_at_ms < @to AND (resolved_at_ms IS NULL OR resolved_at_ms >= @from)
         ORDER BY burn_started_at_ms DESC, id LIMIT @limit`,
      ),
      resolve: db.prepare<[number, string]>(
        `UPDATE incident_episodes SET resolved_at_ms = ? WHERE id = ? AND resolved_at_ms IS NULL`,
      ),
      open: db
        .prepare<[], number>(`SELECT count(*) FROM incident_episodes WHERE resolved_at_ms IS NULL`)
        .pluck(true),
      deleteBefore: db.prepare<[number]>(
        `DELETE FROM incident_episodes WHERE resolved_at_ms IS NOT NULL AND resolved_at_ms < ?`,
      ),
    };
  }

  /** Writes an episode as it stands now; the same id again updates it (restarts, escalations, resolution). */
  save(episode: IncidentEpisode): void {
    this.statements.put.run({ ...episode, escalations: JSON.stringify(episode.escalations) });
  }

  /** Closes an open episode as it stands (an SLO removed without a status to resolve it with). */
  resolve(id: string, atMs: number): void {
    this.statements.resolve.run(atMs, id);
  }

  /** Episodes overlapping [fromMs, toMs), newest first, at most MAX_EPISODES. */
  list(query: EpisodeQuery = {}): IncidentEpisode[] {
    return this.statements.list
      .all({
        service: query.service ?? null,
        slo: query.slo ?? null,
        from: query.fromMs ?? 0,
        to: query.toMs ?? Number.MAX_SAFE_INTEGER,
        limit: MAX_EPISODES,
      })
      .map(fromRow);
  }

  openCount(): number {
    return this.statements.open.get() ?? 0;
  }

  /** Retention: drops episodes resolved before `beforeMs` (the hour-bucket retention); open ones stay. */
  prune(beforeMs: number): number {
    return this.statements.deleteBefore.run(beforeMs).changes;
  }
}

/** What alerting writes to the incident history (as `AlertEpisodes`). */
export type IncidentWriter = Pick<IncidentStore, 'save' | 'resolve'>;
