import { ALERT_SCHEMA } from './alertSchema.js';

/**
 * The control plane's schema in PostgreSQL, as ordered steps `migrate()` applies once each. A step is never
 * edited after it shipped: a change is a new step. Versions 1-99 are the foundation, the statuses and the
 * gate's state; 100-199 alerting (episodes, incidents, outbox, corrections).
 */
export interface SchemaStep {
  version: number;
  /** What the step adds, for the log and the schema table. */
  description: string;
  sql: string;
}

export const CONTROL_SCHEMA: readonly SchemaStep[] = [
  {
    version: 1,
    description: 'the latest status of each SLO, written by the lease holder',
    sql: `
      CREATE TABLE control_statuses (
        slo text PRIMARY KEY,
        evaluated_at_ms bigint NOT NULL,
        status jsonb NOT NULL
      )`,
  },
  {
    version: 2,
    description:
      'a write order on the shared statuses, so replicas read what changed whatever the clocks say',
    // Evaluation times come from the holder's clock: after a takeover to a host whose clock is behind, new
    // statuses could carry older times than those already read.
    sql: `
      CREATE SEQUENCE control_status_revisions;
      ALTER TABLE control_statuses ADD COLUMN revision bigint NOT NULL DEFAULT nextval('control_status_revisions');
      CREATE INDEX control_statuses_revision ON control_statuses (revision)`,
  },
  // Alerting's steps (versions 100-199, control/alertSchema.ts) stay last: versions must ascend.
  ...ALERT_SCHEMA,
];
