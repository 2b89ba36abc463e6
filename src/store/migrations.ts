/**
 * Versioned schema, applied in order; PRAGMA user_version records how many have run. Never edit a released
 * migration: append a new one.
 */
/**
 * A gate decision's fields from its time to the caller's inputs, as migration 1 declares them; the table that
 * later keeps the audit trail declares them again to the letter.
 */
const GATE_DECISION_FIELDS = `decided_at_ms INTEGER NOT NULL,
    service TEXT NOT NULL,
    environment TEXT,
    version TEXT,
    change_type TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    request TEXT NOT NULL,         -- JSON of the caller's inputs`;

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,            -- loadbalancer | traces
    source TEXT NOT NULL,          -- the collector's name, e.g. edge-nginx
    service TEXT NOT NULL,
    operation TEXT NOT NULL,       -- route template or span name
    method TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    UNIQUE (kind, source, service, operation, method)
  );

  -- One row per series and minute; hour_buckets holds the same sums per hour, kept in the same transaction.
  CREATE TABLE minute_buckets (
    series_id INTEGER NOT NULL REFERENCES series(id),
    minute INTEGER NOT NULL,       -- epoch minutes
    total INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    histogram BLOB,                -- sparse latency bin counts (store/histogram.ts)
    thresholds BLOB,               -- exact counts at or under each declared threshold (µs)
    PRIMARY KEY (series_id, minute)
  ) WITHOUT ROWID;
  CREATE INDEX minute_buckets_by_time ON minute_buckets (minute);

  CREATE TABLE hour_buckets (
    series_id INTEGER NOT NULL REFERENCES series(id),
    hour INTEGER NOT NULL,         -- epoch hours
    total INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    histogram BLOB,
    thresholds BLOB,
    PRIMARY KEY (series_id, hour)
  ) WITHOUT ROWID;
  CREATE INDEX hour_buckets_by_time ON hour_buckets (hour);

  CREATE TABLE slo_status (
    slo TEXT PRIMARY KEY,
    evaluated_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL           -- JSON SloStatus
  );

  CREATE TABLE gate_decisions (
    id TEXT PRIMARY KEY,
    ${GATE_DECISION_FIELDS}
    answer TEXT NOT NULL           -- JSON answer, with the statuses it was based on
  );
  CREATE INDEX gate_decisions_by_service ON gate_decisions (service, decided_at_ms);
  -- The audit trail is append-only.
  CREATE TRIGGER gate_decisions_no_update BEFORE UPDATE ON gate_decisions
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only'); END;
  CREATE TRIGGER gate_decisions_no_delete BEFORE DELETE ON gate_decisions
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only'); END;
  `,
  `
  -- Deploy gate (issue 6): break-glass overrides, freeze state per service and environment, asynchronous
  -- evaluations (Spinnaker) and deployment markers.
  CREATE TABLE gate_overrides (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    sha TEXT,                      -- NULL: any version
    reason TEXT NOT NULL,
    ticket TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    revoked_by TEXT
  );
  CREATE INDEX gate_overrides_by_scope ON gate_overrides (service, environment, expires_at_ms);

  CREATE TABLE gate_freezes (
    service TEXT NOT NULL,
    environment TEXT NOT NULL,     -- '' when callers name none
    frozen INTEGER NOT NULL,
    changed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (service, environment)
  ) WITHOUT ROWID;

  CREATE TABLE gate_evaluations (
    id TEXT PRIMARY KEY,
    request TEXT NOT NULL,         -- JSON GateRequest
    created_at_ms INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL,
    status TEXT NOT NULL,          -- RUNNING | SUCCEEDED | TERMINAL
    answer TEXT,                   -- JSON of the latest gate answer
    decided_at_ms INTEGER
  );

  CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,     -- '' when unknown
    version TEXT NOT NULL,
    deployed_at_ms INTEGER NOT NULL,
    decision_id TEXT,
    source TEXT NOT NULL           -- api | gate (automatic marker of an allowed gate call)
  );
  CREATE INDEX deployments_by_service ON deployments (service, deployed_at_ms);
  -- Callers repeat the gate (Flagger every interval, --wait polling): one automatic marker per release.
  CREATE UNIQUE INDEX deployments_gate_once ON deployments (service, environment, version) WHERE source = 'gate';
  `,
  `
  -- Alerts (issue 7): the open alert episode of each SLO, and the durable outbox of chat messages.
  CREATE TABLE alert_episodes (
    slo TEXT PRIMARY KEY,
    episode TEXT NOT NULL          -- JSON AlertEpisode
  ) WITHOUT ROWID;

  CREATE TABLE alert_outbox (
    id INTEGER PRIMARY KEY,        -- a target's messages go out in id order
    target TEXT NOT NULL,          -- the target's name; its URL (a secret) stays in the config
    subject TEXT NOT NULL,
    request TEXT NOT NULL,         -- JSON OutgoingRequest
    created_at_ms INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    state TEXT NOT NULL DEFAULT 'pending',   -- pending | delivered | failed
    finished_at_ms INTEGER
  );
  CREATE INDEX alert_outbox_pending ON alert_outbox (state, target, id);
  `,
  `
  -- Log tailing (ingest/tail): how far each collector has read each file, committed in the same
  -- transaction as the buckets those bytes produced, so a restart neither loses nor repeats a line.
  CREATE TABLE tail_offsets (
    collector TEXT NOT NULL,       -- the collector's path or glob, as configured
    file_id TEXT NOT NULL,         -- dev:inode
    path TEXT NOT NULL,            -- where the file was last seen
    offset INTEGER NOT NULL,       -- bytes read and committed
    head TEXT NOT NULL,            -- the file's first bytes (base64), to recognise truncation or reuse
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (collector, file_id)
  ) WITHOUT ROWID;

  -- LB metrics scraping (ingest/scrape): the last value of each counter, to turn the next scrape into deltas
  -- across a restart.
  CREATE TABLE scrape_counters (
    target TEXT NOT NULL,          -- the scrape URL
    series TEXT NOT NULL,          -- metric name and labels
    value REAL NOT NULL,
    scraped_ms INTEGER NOT NULL,
    PRIMARY KEY (target, series)
  ) WITHOUT ROWID;
  `,
  `
  -- Time-slice budgets (issue 5): the closed slices of each slice-budgeted SLO, kept as they close, so a window
  -- longer than the minute retention still judges every slice. A slicing is one SLO's indicator selection and
  -- slice length: change either and the SLO gets a new slicing instead of reusing slices cut another way.
  CREATE TABLE slicings (
    id INTEGER PRIMARY KEY,
    slo TEXT NOT NULL,
    fingerprint TEXT NOT NULL,     -- the selection, good condition and slice length (evaluate/inputs.ts)
    UNIQUE (slo, fingerprint)
  );

  -- Events, not verdicts: a changed slice target, or ratio-timeslices, judge them again without the minutes.
  CREATE TABLE slices (
    slicing_id INTEGER NOT NULL REFERENCES slicings(id),
    start_minute INTEGER NOT NULL, -- epoch minutes
    good REAL NOT NULL,            -- latency goods estimated from histograms may be fractional
    valid REAL NOT NULL,
    PRIMARY KEY (slicing_id, start_minute)
  ) WITHOUT ROWID;
  CREATE INDEX slices_by_time ON slices (start_minute);
  `,
  `
  -- The statuses gate decisions were based on, stored once per evaluation and referenced by every decision
  -- made on them: copied into each answer they were 1.5 KB of a 1.8 KB row, written a thousand times a second
  -- under load. Decisions stored before keep their statuses in their answer.
  CREATE TABLE gate_inputs (
    id INTEGER PRIMARY KEY,
    statuses TEXT NOT NULL         -- JSON array of SloStatus
  );
  CREATE TRIGGER gate_inputs_no_update BEFORE UPDATE ON gate_inputs
    BEGIN SELECT RAISE(ABORT, 'gate_inputs is append-only'); END;
  CREATE TRIGGER gate_inputs_no_delete BEFORE DELETE ON gate_inputs
    BEGIN SELECT RAISE(ABORT, 'gate_inputs is append-only'); END;
  ALTER TABLE gate_decisions ADD COLUMN inputs_id INTEGER REFERENCES gate_inputs (id);
  `,
  `
  -- Versions before the accepted time range stored any time a sender gave: counts stamped in the future lay in
  -- wait for the error budget, and a time past what a Date holds (1e300) failed every view from the next tick.
  -- Whatever lies more than an hour (the largest clock skew a setting allows) ahead of the clock at upgrade is
  -- deleted; last-seen times are brought back to now.
  DELETE FROM minute_buckets WHERE minute > unixepoch() / 60 + 60;
  DELETE FROM hour_buckets WHERE hour > unixepoch() / 3600 + 1;
  DELETE FROM slices WHERE start_minute > unixepoch() / 60 + 60;
  DELETE FROM deployments WHERE deployed_at_ms > unixepoch() * 1000 + 3600000 OR deployed_at_ms < 0;
  UPDATE series SET last_seen_ms = unixepoch() * 1000 WHERE last_seen_ms > unixepoch() * 1000;
  UPDATE series SET first_seen_ms = last_seen_ms WHERE first_seen_ms > last_seen_ms;
  `,
  `
  -- An evaluation reads the series of its SLO's service (and route) by this index, not the whole table: its
  -- cost stays flat however many series other services and overflow buckets hold.
  CREATE INDEX series_by_service ON series (kind, service, operation);
  `,
  `
  -- Outbox claims (issue 15): a sender claims a row for a lease before sending it, in one UPDATE that only
  -- succeeds on an unclaimed or expired row; SQLite serialises writers, so two senders never send one row.
  ALTER TABLE alert_outbox ADD COLUMN claim_owner TEXT;
  ALTER TABLE alert_outbox ADD COLUMN claim_until_ms INTEGER;

  -- sloguard import (issue 15): what was committed of each file, in the transaction of the counts, so a re-run
  -- resumes where an interrupted one stopped and never counts the same bytes twice (unless --force).
  CREATE TABLE imported_files (
    head_sha256 TEXT PRIMARY KEY,  -- of the file's first 64 KiB as stored: the same bytes under any name
    path TEXT NOT NULL,            -- where it was last imported from
    size INTEGER NOT NULL,         -- bytes on disk then
    file_id TEXT NOT NULL,         -- dev:inode then
    offset INTEGER NOT NULL,       -- bytes of (gunzipped) text read and committed, whole lines
    lines INTEGER NOT NULL,        -- lines committed
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Retention of the gate's audit trail (issue 15): decisions stay append-only, except that retention removes
  -- rows older than the cutoff it sets here first; inputs go once no decision refers to them.
  CREATE TABLE gate_audit_cutoff (cutoff_ms INTEGER NOT NULL);
  INSERT INTO gate_audit_cutoff (cutoff_ms) VALUES (0);
  DROP TRIGGER gate_decisions_no_delete;
  CREATE TRIGGER gate_decisions_no_delete BEFORE DELETE ON gate_decisions
    WHEN old.decided_at_ms >= (SELECT cutoff_ms FROM gate_audit_cutoff)
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only: retention removes only rows past its cutoff'); END;
  DROP TRIGGER gate_inputs_no_delete;
  CREATE TRIGGER gate_inputs_no_delete BEFORE DELETE ON gate_inputs
    WHEN EXISTS (SELECT 1 FROM gate_decisions WHERE inputs_id = old.id)
    BEGIN SELECT RAISE(ABORT, 'gate_inputs still referred to by a decision'); END;
  CREATE INDEX gate_decisions_by_time ON gate_decisions (decided_at_ms);
  CREATE INDEX gate_decisions_by_inputs ON gate_decisions (inputs_id);
  CREATE INDEX deployments_by_time ON deployments (deployed_at_ms);
  `,
  `
  -- Evaluations look series up in memory instead (store/seriesCatalogue.ts): a query per SLO cost 14 ms a tick
  -- for 1,000 SLOs, the lookups 0.2 ms. series_by_service, made for those queries, would only slow inserts.
  DROP INDEX series_by_service;
  `,
  `
  -- Corrections (issue 17) added through the API: planned downtime and after-the-fact fixes. Rows are never
  -- deleted: a delete records who and when, so the audit trail keeps every correction that ever applied.
  CREATE TABLE corrections (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,            -- JSON CorrectionSpec, as sent
    actor TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    deleted_at_ms INTEGER,
    deleted_by TEXT
  );
  CREATE TRIGGER corrections_no_delete BEFORE DELETE ON corrections
    BEGIN SELECT RAISE(ABORT, 'corrections are kept for the audit trail'); END;
  `,
  `
  -- Good/bad/valid rules (issue 17): exact valid and bad counts of each declared counting rule, as thresholds
  -- are kept for latency (sparse counts keyed by src/definitions/eventRules.ts validKey and badKey).
  ALTER TABLE minute_buckets ADD COLUMN rule_counts BLOB;
  ALTER TABLE hour_buckets ADD COLUMN rule_counts BLOB;
  `,
  `
  -- Disk with latency (issue 23): histograms take one byte per non-zero bin (model/histogram.ts
  -- encodeHistogram) instead of a pair of varints: recode_histogram, registered by store/database.ts, rewrites
  -- every stored one with the same counts. Retention deletes through the primary key, series by series, so
  -- the indexes by time (11% of a 28-day database) go.
  UPDATE minute_buckets SET histogram = recode_histogram(histogram) WHERE histogram IS NOT NULL;
  UPDATE hour_buckets SET histogram = recode_histogram(histogram) WHERE histogram IS NOT NULL;
  DROP INDEX minute_buckets_by_time;
  DROP INDEX hour_buckets_by_time;
  `,
  `
  -- Incidents (issue 19): every alert episode, kept after it resolves (for the hour-bucket retention), from the
  -- start of its burn to its resolution; overlapping episodes of a service are grouped into incidents on read.
  CREATE TABLE incident_episodes (
    id TEXT PRIMARY KEY,           -- the alert episode's id: a restart during an episode updates the same row
    slo TEXT NOT NULL,
    service TEXT NOT NULL,
    severity TEXT NOT NULL,        -- page | ticket: the highest reached
    burn_started_at_ms INTEGER NOT NULL,
    detected_at_ms INTEGER NOT NULL,
    resolved_at_ms INTEGER,        -- NULL while open
    peak_burn_rate REAL,
    budget_consumed REAL,          -- share of the SLO's error budget spent since the burn started
    escalations TEXT NOT NULL      -- JSON [{severity, atMs}]
  ) WITHOUT ROWID;
  CREATE INDEX incident_episodes_by_service ON incident_episodes (service, burn_started_at_ms);
  CREATE INDEX incident_episodes_by_start ON incident_episodes (burn_started_at_ms);
  -- Backfill: the episodes open at upgrade (resolved ones were not kept before).
  INSERT OR IGNORE INTO incident_episodes
    SELECT json_extract(episode, '$.id'), slo, json_extract(episode, '$.service'),
      CASE json_extract(episode, '$.level') WHEN 'critical' THEN 'page' ELSE 'ticket' END,
      json_extract(episode, '$.startedAtMs'), json_extract(episode, '$.startedAtMs'), NULL, NULL, NULL, '[]'
    FROM alert_episodes;

  -- DORA keys (issue 19): what kind of change a deployment was, and when it was committed (lead time).
  ALTER TABLE deployments ADD COLUMN change_type TEXT NOT NULL DEFAULT 'feature';
  ALTER TABLE deployments ADD COLUMN commit_at_ms INTEGER;
  `,
  `
  -- Burns seen before their alert opened (issue 19), so a restart between a burn's start and its alert still
  -- counts the episode's spend from the burn: one row per SLO while its fastest tier burns above 1×.
  CREATE TABLE alert_burns (
    slo TEXT PRIMARY KEY,
    started_at_ms INTEGER NOT NULL,
    bad_events_before REAL NOT NULL  -- bad events in the SLO window at the last evaluation before the burn
  ) WITHOUT ROWID;
  `,
  `
  -- The gate's audit trail in three b-trees instead of five (issue 23): at a thousand decisions a second each
  -- commit holds one decision, and every b-tree it touches is a page written to the WAL and copied back by the
  -- checkpoint (5.9 pages a decision before, 3.6 now). The table keeps its row ids (rows are appended, so
  -- pages fill; keyed by (time, id) WITHOUT ROWID, 600-byte rows split pages in half and wrote 5.4); the id has
  -- no index of its own (time-ordered and random, nothing looks decisions up by it); and inputs are guarded by a
  -- cutoff that retention moves, where an index by inputs served the check of each referring decision.
  CREATE TABLE gate_decisions_kept (
    id TEXT NOT NULL,              -- UUIDv7 (gate/ids.ts): the time, then random bits
    ${GATE_DECISION_FIELDS}
    answer TEXT NOT NULL,          -- JSON answer; before migration 6 with the statuses it was based on
    inputs_id INTEGER              -- gate_inputs.id, kept while any decision at or after it is kept
  );
  INSERT INTO gate_decisions_kept (id, decided_at_ms, service, environment, version, change_type, decision, reason,
      request, answer, inputs_id)
    SELECT id, decided_at_ms, service, environment, version, change_type, decision, reason, request, answer,
      inputs_id
    FROM gate_decisions ORDER BY decided_at_ms, id;
  DROP TRIGGER gate_inputs_no_delete;
  DROP TABLE gate_decisions;
  ALTER TABLE gate_decisions_kept RENAME TO gate_decisions;
  CREATE INDEX gate_decisions_by_service ON gate_decisions (service, decided_at_ms);
  CREATE INDEX gate_decisions_by_time ON gate_decisions (decided_at_ms);
  CREATE TRIGGER gate_decisions_no_update BEFORE UPDATE ON gate_decisions
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only'); END;
  CREATE TRIGGER gate_decisions_no_delete BEFORE DELETE ON gate_decisions
    WHEN old.decided_at_ms >= (SELECT cutoff_ms FROM gate_audit_cutoff)
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only: retention removes only rows past its cutoff'); END;
  -- Inputs below this id go: retention sets it to the oldest inputs a kept decision refers to (never past the
  -- newest inputs, so new ones are numbered above it). Until the first retention pass nothing goes.
  ALTER TABLE gate_audit_cutoff ADD COLUMN inputs_cutoff INTEGER NOT NULL DEFAULT 0;
  CREATE TRIGGER gate_inputs_no_delete BEFORE DELETE ON gate_inputs
    WHEN old.id >= (SELECT inputs_cutoff FROM gate_audit_cutoff)
    BEGIN SELECT RAISE(ABORT, 'gate_inputs still referred to by a decision'); END;
  `,
  `
  -- Replicas (docs/scaling.md#a-replicated-control-plane): the deployment markers and reports this replica stored
  -- and has not yet written to the shared PostgreSQL, oldest first, sent in order until it takes them. A single
  -- process leaves it empty.
  CREATE TABLE deployments_unshared (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment TEXT NOT NULL       -- JSON, the deployment as stored in deployments
  );
  `,
  `
  -- The gate's audit trail in two b-trees instead of three (issue 23, twelfth session): each b-tree a decision
  -- committed alone touches is a WAL page. A row's key is its time and its place among the decisions of that
  -- millisecond (decided_at_ms * 2^20 + place), so listing and retention by time read the table's own b-tree
  -- and no index by time is written; the index by service holds the service and the key. Rows keep their order
  -- by time, then by the order they were stored. Copying a trail of a million decisions into the new table took
  -- 9 to 22 s (load 8) before the port opens; the decisions stored before stay where they are instead, under
  -- another name with their indexes, no longer written to, listed with the new ones and emptied by retention.
  DROP TRIGGER gate_decisions_no_update;
  DROP TRIGGER gate_decisions_no_delete;
  ALTER TABLE gate_decisions RENAME TO gate_decisions_unkeyed;
  CREATE TRIGGER gate_decisions_unkeyed_no_update BEFORE UPDATE ON gate_decisions_unkeyed
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only'); END;
  CREATE TRIGGER gate_decisions_unkeyed_no_delete BEFORE DELETE ON gate_decisions_unkeyed
    WHEN old.decided_at_ms >= (SELECT cutoff_ms FROM gate_audit_cutoff)
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only: retention removes only rows past its cutoff'); END;
  CREATE TABLE gate_decisions (
    decision_key INTEGER PRIMARY KEY,  -- decided_at_ms * 1048576 + place within the millisecond
    id TEXT NOT NULL,              -- UUIDv7 (gate/ids.ts): the time, then random bits
    ${GATE_DECISION_FIELDS}
    answer TEXT NOT NULL,          -- JSON answer
    inputs_id INTEGER,             -- gate_inputs.id, kept while any decision at or after it is kept
    CHECK (decision_key >> 20 = decided_at_ms)
  );
  CREATE INDEX gate_decisions_by_service_and_key ON gate_decisions (service);
  CREATE TRIGGER gate_decisions_no_update BEFORE UPDATE ON gate_decisions
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only'); END;
  CREATE TRIGGER gate_decisions_no_delete BEFORE DELETE ON gate_decisions
    WHEN old.decision_key >= (SELECT cutoff_ms FROM gate_audit_cutoff) * 1048576
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only: retention removes only rows past its cutoff'); END;
  -- Retention passes, so that a pass finds the inputs no decision refers to without reading every decision (a
  -- third of a second for a million): the store forgets the inputs it stored at each pass, so the decisions
  -- committed after a pass refer only to inputs stored after it. Once retention has removed every decision up to
  -- a pass's newest, the inputs up to that pass's newest are referred to by none.
  CREATE TABLE gate_audit_passes (
    decision_key INTEGER PRIMARY KEY,  -- the newest keyed decision at the pass's end; -1 when there was none
    inputs_id INTEGER NOT NULL         -- the newest gate_inputs.id then; 0 when there was none
  );
  `,
];
