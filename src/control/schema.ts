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
  {
    version: 3,
    description: 'gate overrides, granted and revoked through any replica, read by every decision',
    // A decision asks for the newest override in force for its scope: one index probe.
    sql: `
      CREATE TABLE control_gate_overrides (
        id text PRIMARY KEY,
        grant_order bigint GENERATED ALWAYS AS IDENTITY,
        service text NOT NULL,
        environment text NOT NULL,
        sha text,
        reason text NOT NULL,
        ticket text NOT NULL,
        actor text NOT NULL,
        created_at_ms bigint NOT NULL,
        expires_at_ms bigint NOT NULL,
        revoked_at_ms bigint,
        revoked_by text
      );
      CREATE INDEX control_gate_overrides_in_force ON control_gate_overrides (service, environment, expires_at_ms)
        WHERE revoked_at_ms IS NULL;
      CREATE INDEX control_gate_overrides_created ON control_gate_overrides (created_at_ms)`,
  },
  {
    version: 4,
    description: 'the audit trail of gate decisions, written by every replica, listed from any',
    sql: `
      CREATE TABLE control_gate_decisions (
        id text PRIMARY KEY,
        decided_at_ms bigint NOT NULL,
        service text NOT NULL,
        environment text,
        version text,
        change_type text NOT NULL,
        decision text NOT NULL,
        reason text NOT NULL,
        request jsonb NOT NULL,
        answer jsonb NOT NULL,
        statuses jsonb NOT NULL
      );
      CREATE INDEX control_gate_decisions_time ON control_gate_decisions (decided_at_ms DESC, id DESC);
      CREATE INDEX control_gate_decisions_service ON control_gate_decisions (service, decided_at_ms DESC, id DESC)`,
  },
  {
    version: 5,
    description: 'gate freezes, changed by any replica, each change numbered so every replica reads it',
    sql: `
      CREATE SEQUENCE control_freeze_revisions;
      CREATE TABLE control_gate_freezes (
        service text NOT NULL,
        environment text NOT NULL,
        frozen boolean NOT NULL,
        changed_at_ms bigint NOT NULL,
        revision bigint NOT NULL DEFAULT nextval('control_freeze_revisions'),
        PRIMARY KEY (service, environment)
      );
      CREATE INDEX control_gate_freezes_revision ON control_gate_freezes (revision)`,
  },
  {
    version: 6,
    description: 'deployment markers, written by every replica, copied by each in commit order',
    // The copy reads by writing transaction (xact) below the oldest one still running, not by a sequence:
    // replicas write concurrently, and a sequence number taken first may commit last and be skipped.
    sql: `
      CREATE TABLE control_deployments (
        id text PRIMARY KEY,
        service text NOT NULL,
        environment text NOT NULL,
        version text NOT NULL,
        deployed_at_ms bigint NOT NULL,
        decision_id text,
        source text NOT NULL,
        change_type text NOT NULL,
        commit_at_ms bigint,
        xact xid8 NOT NULL DEFAULT pg_current_xact_id()
      );
      CREATE UNIQUE INDEX control_deployments_gate_once ON control_deployments (service, environment, version)
        WHERE source = 'gate';
      CREATE INDEX control_deployments_marker ON control_deployments (decision_id) WHERE source = 'gate';
      CREATE INDEX control_deployments_xact ON control_deployments (xact);
      CREATE INDEX control_deployments_time ON control_deployments (deployed_at_ms)`,
  },
  // Alerting's steps (versions 100-199, control/alertSchema.ts) stay last: versions must ascend.
  ...ALERT_SCHEMA,
];
