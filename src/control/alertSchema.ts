/**
 * The alerting part of the control schema (versions 100-199): the shared outbox, alert episodes, burns,
 * incidents and corrections. Times are epoch milliseconds in bigint columns, as the SQLite tables keep them;
 * payloads are the exact JSON text the SQLite outbox keeps (jsonb would reorder a chat payload's keys). Typed
 * by shape, not by importing `SchemaStep`: schema.ts lists these steps, and an import back would be a cycle.
 */
export const ALERT_SCHEMA: ReadonlyArray<{ version: number; description: string; sql: string }> = [
  {
    version: 100,
    description: 'the outbox of chat messages every replica sends from, claimed row by row',
    sql: `
      CREATE TABLE control_outbox (
        id bigserial PRIMARY KEY,            -- a target's messages go out in id order
        target text NOT NULL,                -- the target's name; its URL (a secret) stays in the config
        subject text NOT NULL,
        request text NOT NULL,               -- JSON OutgoingRequest
        created_at_ms bigint NOT NULL,
        next_attempt_ms bigint NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
        finished_at_ms bigint,
        claim_owner text,                    -- the dispatcher sending it now, until claim_until_ms
        claim_until_ms bigint
      );
      CREATE INDEX control_outbox_pending ON control_outbox (target, id) WHERE state = 'pending';
      CREATE INDEX control_outbox_finished ON control_outbox (finished_at_ms) WHERE state <> 'pending'`,
  },
  {
    version: 101,
    description: 'alert episodes, burns in progress and the incident history, written by the lease holder',
    sql: `
      CREATE TABLE control_alert_episodes (
        slo text PRIMARY KEY,
        episode text NOT NULL                -- JSON AlertEpisode
      );
      CREATE TABLE control_alert_burns (
        slo text PRIMARY KEY,
        started_at_ms bigint NOT NULL,
        bad_events_before double precision NOT NULL
      );
      -- Every write of an incident takes the next number, so each replica copies what changed since its last read.
      CREATE SEQUENCE control_incident_changes;
      CREATE TABLE control_incident_episodes (
        id text PRIMARY KEY,                 -- the alert episode's id: a takeover during an episode updates the same row
        slo text NOT NULL,
        service text NOT NULL,
        severity text NOT NULL,              -- page | ticket: the highest reached
        burn_started_at_ms bigint NOT NULL,
        detected_at_ms bigint NOT NULL,
        resolved_at_ms bigint,               -- NULL while open
        peak_burn_rate double precision,
        budget_consumed double precision,
        escalations text NOT NULL,           -- JSON [{severity, atMs}]
        changed bigint NOT NULL DEFAULT nextval('control_incident_changes')
      );
      CREATE INDEX control_incident_episodes_changed ON control_incident_episodes (changed);
      CREATE INDEX control_incident_episodes_by_service ON control_incident_episodes (service, burn_started_at_ms);
      CREATE INDEX control_incident_episodes_by_start ON control_incident_episodes (burn_started_at_ms)`,
  },
  {
    version: 102,
    description: 'corrections added through any replica, copied by every replica into its own store',
    sql: `
      CREATE SEQUENCE control_correction_changes;
      CREATE TABLE control_corrections (
        id text PRIMARY KEY,
        spec text NOT NULL,                  -- JSON CorrectionSpec, as sent
        actor text NOT NULL,
        created_at_ms bigint NOT NULL,
        deleted_at_ms bigint,                -- a delete is recorded, never erased (the audit trail)
        deleted_by text,
        changed bigint NOT NULL DEFAULT nextval('control_correction_changes')
      );
      CREATE INDEX control_corrections_changed ON control_corrections (changed)`,
  },
];
