import type { Escalation, IncidentEpisode, Severity } from '../model/incident.js';
import type { IncidentWriter } from '../store/incidents.js';
import { copyChanges } from './changes.js';
import type { ControlDatabase } from './database.js';

interface IncidentRow {
  id: string;
  slo: string;
  service: string;
  severity: Severity;
  burn_started_at_ms: string;
  detected_at_ms: string;
  resolved_at_ms: string | null;
  peak_burn_rate: number | null;
  budget_consumed: number | null;
  escalations: string;
  changed: string;
}

const fromRow = (row: IncidentRow): IncidentEpisode => ({
  id: row.id,
  slo: row.slo,
  service: row.service,
  severity: row.severity,
  burnStartedAtMs: Number(row.burn_started_at_ms),
  detectedAtMs: Number(row.detected_at_ms),
  escalations: JSON.parse(row.escalations) as Escalation[],
  resolvedAtMs: row.resolved_at_ms === null ? null : Number(row.resolved_at_ms),
  peakBurnRate: row.peak_burn_rate,
  budgetConsumed: row.budget_consumed,
});

/**
 * Each replica's copy of the incident history the lease holder writes to PostgreSQL
 * (docs/scaling.md#alerts-incidents-and-corrections): the rows changed since the last read are saved into the
 * replica's own incident store, which the API, `/metrics` and the reports read as on one process.
 */
export class SharedIncidents {
  /** The change number read up to. */
  private readUpTo = 0;

  constructor(
    private readonly db: ControlDatabase,
    private readonly into: IncidentWriter,
  ) {}

  /** Copies what changed since the last refresh; returns how many rows. */
  async refresh(): Promise<number> {
    const { readUpTo, copied } = await copyChanges<IncidentRow>(
      this.db,
      'control_incident_episodes',
      this.readUpTo,
      (row) => this.into.save(fromRow(row)),
    );
    this.readUpTo = readUpTo;
    return copied;
  }
}

/**
 * Retention of the shared history: drops episodes resolved before `beforeMs` (open ones stay), as each replica
 * prunes its copy. Any replica may run it; the same delete twice removes nothing more.
 */
export async function pruneSharedIncidents(db: ControlDatabase, beforeMs: number): Promise<number> {
  const { rowCount } = await db.pool.query(
    'DELETE FROM control_incident_episodes WHERE resolved_at_ms IS NOT NULL AND resolved_at_ms < $1',
    [beforeMs],
  );
  return rowCount ?? 0;
}
