/**
 * A 28-day database and its SLO files at the size issue #23 measures start-up at: `series` load-balancer
 * series of `services` services, one availability SLO per series (10,000 and 10,000 by default), as many
 * files as services. Rows are written straight into the real schema (migrations run by openDatabase), as
 * BucketStore.commit leaves them: hour rollups for all 28 days, minutes for the minute retention, generated
 * inside SQLite, so 10,000 series take a minute or two instead of hours of read-modify-write commits.
 *
 * `npx tsx bench/startupFixture.ts DIR [--series N] [--services N]` builds one by hand.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MINUTE_RETENTION_DAYS } from '../src/config/config.js';
import { openDatabase } from '../src/store/database.js';

export interface StartupFixture {
  databasePath: string;
  definitionsPath: string;
  series: number;
  /** The end of the 28 days: the last whole hour when it was built. */
  endMs: number;
}

const DAYS = 28;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The SLO file of one service: one availability SLO per series of it. */
function sloFile(service: number, services: number, series: number): string {
  const documents: string[] = [];
  for (let i = service; i < series; i += services) {
    documents.push(`apiVersion: sloguard/v1
kind: SLO
metadata: { name: slo-${i}, service: svc-${service} }
spec:
  indicator:
    source: loadbalancer
    select: { route: /r/${i}, method: GET }
  objective: 99.9
  window: 28d
`);
  }
  return documents.join('---\n');
}

export function buildStartupFixture(
  dir: string,
  { series = 10_000, services = 100, minuteRetentionDays = DEFAULT_MINUTE_RETENTION_DAYS } = {},
): StartupFixture {
  const definitionsPath = join(dir, 'slo-definitions');
  mkdirSync(definitionsPath, { recursive: true });
  for (let s = 0; s < services; s++)
    writeFileSync(join(definitionsPath, `svc-${s}.yaml`), sloFile(s, services, series));

  const databasePath = join(dir, 'sloguard.db');
  const endMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const firstMinute = endMs / MINUTE_MS - DAYS * 24 * 60;
  const keptFrom = endMs / MINUTE_MS - minuteRetentionDays * 24 * 60;
  const db = openDatabase(databasePath);
  // A fixture, not a service: no journal while it is written, and the time indexes built once at the end.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  const indexes = db
    .prepare<[], { sql: string; name: string }>(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('minute_buckets', 'hour_buckets') AND sql IS NOT NULL`,
    )
    .all();
  for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
  // Per minute: 10–20 requests, a 5xx now and then (as bench/evaluate.bench.ts); per hour the same shape
  // scaled by 60 (the minutes at the edges of a window and the hours inside it need not sum exactly).
  const counts = (id: string, at: string, per: number) =>
    `${per} * (10 + ((${id} * 7 + ${at} * 13) % 11)), CASE WHEN (${id} * 31 + ${at}) % 97 = 0 THEN ${per} * (1 + ${at} % 3) ELSE 0 END`;
  const numbers = (from: number, to: number) =>
    `WITH RECURSIVE t(x) AS (SELECT ${from} UNION ALL SELECT x + 1 FROM t WHERE x < ${to - 1})`;
  db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO series (id, kind, source, service, operation, method, first_seen_ms, last_seen_ms)
     SELECT i, 'loadbalancer', 'edge', 'svc-' || ((i - 1) % ?), '/r/' || (i - 1), 'GET', ?, ? FROM n`,
  ).run(series, services, firstMinute * MINUTE_MS, endMs - 1);
  // CROSS JOIN keeps the series outermost: rows arrive in primary-key order, appended, never sorted.
  db.exec(
    `${numbers(firstMinute / 60, endMs / HOUR_MS)}
     INSERT INTO hour_buckets (series_id, hour, total, errors)
     SELECT s.id, t.x, ${counts('s.id', 't.x', 60)} FROM series s CROSS JOIN t`,
  );
  db.exec(
    `${numbers(keptFrom, endMs / MINUTE_MS)}
     INSERT INTO minute_buckets (series_id, minute, total, errors)
     SELECT s.id, t.x, ${counts('s.id', 't.x', 1)} FROM series s CROSS JOIN t`,
  );
  for (const index of indexes) db.exec(index.sql);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { databasePath, definitionsPath, series, endMs };
}

if (import.meta.filename === process.argv[1]) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { series: { type: 'string', default: '10000' }, services: { type: 'string', default: '100' } },
  });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: startupFixture.ts DIR [--series N] [--services N]');
  const started = performance.now();
  buildStartupFixture(dir, { series: Number(values.series), services: Number(values.services) });
  console.log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s: ${dir}`);
}
