import type pg from 'pg';
import type { AlertEpisode } from '../model/alert.js';
import type { IncidentEpisode } from '../model/incident.js';
import type { OutgoingRequest } from '../model/notification.js';
import type { AlertBurns, AlertEpisodes, StoredBurn } from '../store/alertEpisodes.js';
import type { IncidentWriter } from '../store/incidents.js';
import type { AlertOutbox } from '../store/outbox.js';
import type { ControlDatabase, ControlLog } from './database.js';
import { EVALUATOR_LEASE_KEY } from './lease.js';
import { PostgresOutbox } from './outbox.js';

type Write = (client: pg.PoolClient) => Promise<unknown>;

/** Writes to commit in one transaction; fenced when they change alert state (messages alone need not be). */
interface Batch {
  ops: Write[];
  fenced: boolean;
}

/** The lease's advisory key as pg_locks shows it: its high and low 32 bits. */
const LEASE_LOCK = [Number(EVALUATOR_LEASE_KEY >> 32n), Number(EVALUATOR_LEASE_KEY & 0xffffffffn)] as const;

/**
 * The lease holder's alert state on the replicas' shared PostgreSQL: open episodes, burns in progress, the
 * incident history and the outbox (docs/scaling.md#alerts-incidents-and-corrections).
 *
 * Alerting (alert/alerting.ts) reads and writes its state synchronously, in transactions of one alert change
 * and its messages. Here it reads a copy held in memory, taken from the database when this replica gains the
 * lease (`load`); each change it makes is written to the copy and committed to the database in one
 * transaction with its messages, in order. Only the holder writes, so the copy is what the database holds once
 * the commits are through. A commit is fenced: it goes through only while this replica's lease connection
 * holds the lease lock, so a replica that lost the lease cannot announce an alert the next holder also
 * announces. A commit that fails (or a change that throws) marks the copy unsure: `settled` then reloads it
 * from the database before the next evaluation, which then redoes what was lost, messages included.
 */
export class ControlAlertState {
  private episodes = new Map<string, AlertEpisode>();
  private burns = new Map<string, StoredBurn>();
  private batch: Batch | undefined;
  private committing: Promise<void> = Promise.resolve();
  private unsure = false;
  private readonly shared: PostgresOutbox;

  constructor(
    private readonly db: ControlDatabase,
    /** The lease connection's server pid while this replica holds the lease (`EvaluatorLease.holderPid`). */
    private readonly holderPid: () => number | undefined,
    private readonly log: Pick<ControlLog, 'warn'>,
  ) {
    this.shared = new PostgresOutbox(db);
  }

  /**
   * Takes the episodes and burns from the database (on gaining the lease, and after an unsure commit), once
   * this replica's own commits under way are through.
   */
  async load(): Promise<void> {
    await this.committing;
    const [episodes, burns] = await Promise.all([
      this.db.pool.query<{ episode: string }>('SELECT episode FROM control_alert_episodes ORDER BY slo'),
      this.db.pool.query<{ slo: string; started_at_ms: string; bad_events_before: number }>(
        'SELECT slo, started_at_ms, bad_events_before FROM control_alert_burns',
      ),
    ]);
    this.episodes = new Map(
      episodes.rows.map((row) => {
        const episode = JSON.parse(row.episode) as AlertEpisode;
        return [episode.slo, episode];
      }),
    );
    this.burns = new Map(
      burns.rows.map((row) => [
        row.slo,
        { startedAtMs: Number(row.started_at_ms), badEventsBefore: row.bad_events_before },
      ]),
    );
    this.unsure = false;
  }

  /**
   * Waits for the commits under way. True when the copy was reloaded (a commit failed): alerting must then
   * `resume` from the stores, as after a takeover.
   */
  async settled(): Promise<boolean> {
    await this.committing;
    if (!this.unsure) return false;
    await this.load();
    return true;
  }

  /** `fenced`: a change of alert state, which only the lease holder makes (notices come from any replica). */
  private write(op: Write, fenced = true): void {
    if (!this.batch) {
      this.commit({ ops: [op], fenced });
      return;
    }
    this.batch.ops.push(op);
    this.batch.fenced ||= fenced;
  }

  private commit({ ops, fenced }: Batch): void {
    this.committing = this.committing
      .then(() =>
        this.db.transaction(async (client) => {
          if (fenced) await this.fence(client);
          for (const op of ops) await op(client);
        }),
      )
      .catch((error: unknown) => {
        this.unsure = true;
        this.log.warn(
          { err: error },
          'alert state: a change was not committed; reloading before the next one',
        );
      });
  }

  private async fence(client: pg.PoolClient): Promise<void> {
    const pid = this.holderPid();
    const { rows } = await client.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND pid = $1 AND classid::text::bigint = $2 AND objid::text::bigint = $3`,
      [pid ?? -1, LEASE_LOCK[0], LEASE_LOCK[1]],
    );
    if (rows.length === 0) throw new Error('this replica no longer holds the evaluator lease');
  }

  readonly episodeStore: AlertEpisodes = {
    get: (slo) => this.episodes.get(slo),
    all: () => [...this.episodes.values()].sort((a, b) => (a.slo < b.slo ? -1 : a.slo > b.slo ? 1 : 0)),
    set: (slo, episode) => {
      if (episode) this.episodes.set(slo, episode);
      else this.episodes.delete(slo);
      const text = episode && JSON.stringify(episode);
      this.write((client) =>
        text
          ? client.query(
              `INSERT INTO control_alert_episodes (slo, episode) VALUES ($1, $2)
               ON CONFLICT (slo) DO UPDATE SET episode = excluded.episode`,
              [slo, text],
            )
          : client.query('DELETE FROM control_alert_episodes WHERE slo = $1', [slo]),
      );
    },
    atomically: (work) => {
      if (this.batch) return work();
      const batch: Batch = { ops: [], fenced: false };
      this.batch = batch;
      try {
        work();
      } catch (error) {
        // The copy may hold half of the change: the database's state is taken again before the next one.
        this.unsure = true;
        throw error;
      } finally {
        this.batch = undefined;
      }
      if (batch.ops.length > 0) this.commit(batch);
    },
  };

  readonly burnStore: AlertBurns = {
    all: () => new Map(this.burns),
    set: (slo, burn) => {
      if (burn) this.burns.set(slo, burn);
      else this.burns.delete(slo);
      this.write((client) =>
        burn
          ? client.query(
              `INSERT INTO control_alert_burns (slo, started_at_ms, bad_events_before) VALUES ($1, $2, $3)
               ON CONFLICT (slo) DO UPDATE SET started_at_ms = excluded.started_at_ms,
                 bad_events_before = excluded.bad_events_before`,
              [slo, burn.startedAtMs, burn.badEventsBefore],
            )
          : client.query('DELETE FROM control_alert_burns WHERE slo = $1', [slo]),
      );
    },
  };

  readonly incidentWriter: IncidentWriter = {
    save: (episode: IncidentEpisode) =>
      this.write((client) =>
        client.query(
          `INSERT INTO control_incident_episodes (id, slo, service, severity, burn_started_at_ms, detected_at_ms,
             resolved_at_ms, peak_burn_rate, budget_consumed, escalations)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, resolved_at_ms = excluded.resolved_at_ms,
             peak_burn_rate = excluded.peak_burn_rate, budget_consumed = excluded.budget_consumed,
             escalations = excluded.escalations, changed = nextval('control_incident_changes')`,
          [
            episode.id,
            episode.slo,
            episode.service,
            episode.severity,
            episode.burnStartedAtMs,
            episode.detectedAtMs,
            episode.resolvedAtMs,
            episode.peakBurnRate,
            episode.budgetConsumed,
            JSON.stringify(episode.escalations),
          ],
        ),
      ),
    resolve: (id, atMs) =>
      this.write((client) =>
        client.query(
          `UPDATE control_incident_episodes SET resolved_at_ms = $1, changed = nextval('control_incident_changes')
           WHERE id = $2 AND resolved_at_ms IS NULL`,
          [atMs, id],
        ),
      ),
  };

  /** The shared outbox: messages join the change's transaction; the dispatcher claims from the database. */
  readonly outbox: AlertOutbox = {
    enqueue: (target: string, subject: string, request: OutgoingRequest, nowMs: number) =>
      this.write((client) => this.shared.enqueue(target, subject, request, nowMs, client), false),
    pendingTargets: () => this.shared.pendingTargets(),
    head: (target) => this.shared.head(target),
    claim: (id, owner, nowMs, untilMs) => this.shared.claim(id, owner, nowMs, untilMs),
    retryLater: (id, owner, nextAttemptMs, error) => this.shared.retryLater(id, owner, nextAttemptMs, error),
    delivered: (id, owner, nowMs) => this.shared.delivered(id, owner, nowMs),
    failed: (id, owner, nowMs, error) => this.shared.failed(id, owner, nowMs, error),
    prune: (beforeMs) => this.shared.prune(beforeMs),
  };
}
