/**
 * Versioned schema, applied in order; PRAGMA user_version records how many have run. Never edit a released
 * migration: append a new one.
 */
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
    decided_at_ms INTEGER NOT NULL,
    service TEXT NOT NULL,
    environment TEXT,
    version TEXT,
    change_type TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    request TEXT NOT NULL,         -- JSON of the caller's inputs
    answer TEXT NOT NULL           -- JSON answer, with the statuses it was based on
  );
  CREATE INDEX gate_decisions_by_service ON gate_decisions (service, decided_at_ms);
  -- The audit trail is append-only.
  CREATE TRIGGER gate_decisions_no_update BEFORE UPDATE ON gate_decisions
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only'); END;
  CREATE TRIGGER gate_decisions_no_delete BEFORE DELETE ON gate_decisions
    BEGIN SELECT RAISE(ABORT, 'gate_decisions is append-only'); END;
  `,
];
