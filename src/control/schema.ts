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
  ...ALERT_SCHEMA,
];
