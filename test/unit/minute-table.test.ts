import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validKey } from '../../src/definitions/eventRules.js';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { SeriesLimiter } from '../../src/ingest/cardinality.js';
import { ingestBytes, ingestLines, type LineContext } from '../../src/ingest/loadbalancer/lines.js';
import { MinuteTable } from '../../src/ingest/loadbalancer/minuteTable.js';
import { parseNginxLine } from '../../src/ingest/loadbalancer/nginx.js';
import { parseNginxBytes } from '../../src/ingest/loadbalancer/nginxBytes.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import type { CountingRule } from '../../src/model/eventRules.js';
import { BucketStore } from '../../src/store/buckets.js';
import { openDatabase } from '../../src/store/database.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `sloguard import` counts lines into a MinuteTable and hands its rows to the batch before each commit: the
 * batch must end up with exactly the buckets it would have counted itself, line by line.
 */

const THRESHOLDS = [100_000, 500_000];
const ACCEPTED = { fromMs: Date.UTC(2000, 0, 1), toMs: Date.UTC(2030, 0, 1) };
const RULES: CountingRule[] = [
  {
    id: 7,
    kind: 'loadbalancer',
    service: 'ruled',
    rules: { bad: [{ from: 500, to: 599 }], exclude: [{ userAgent: '*bot*' }] },
  },
];
const START = Date.UTC(2026, 11, 2, 3, 0, 0);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function timeLocal(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** A deterministic pseudo-random sequence, so a failure shows the same lines again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * 60 routes over 120 minutes in no order (7,200 series-minutes, past the table's 4,096 rows), durations over
 * most latency bins, some 5xx, a path with a NUL (its label is refused) and a line only the text parser reads.
 */
function logLines(count: number): Buffer {
  const next = random(23);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const ms = START + Math.floor(next() * 120) * 60_000 + Math.floor(next() * 60_000);
    const route = Math.floor(next() * 60);
    const method = next() < 0.8 ? 'GET' : 'POST';
    const status = next() < 0.1 ? 503 : 200;
    const seconds = (10 ** (next() * 7 - 4)).toFixed(3);
    lines.push(
      `10.0.0.1 - - [${timeLocal(ms)}] "${method} /r${route}/${i} HTTP/1.1" ${status} 12 "-" "${next() < 0.1 ? 'a-bot' : 'agent'}" ${seconds}`,
    );
  }
  lines.push(`10.0.0.1 - - [${timeLocal(START)}] "GET /nul\u0000 HTTP/1.1" 200 1 "-" "-" 0.1`);
  lines.push(`10.0.0.1 - - [${timeLocal(START)}] "GET /escaped\\"q HTTP/1.1" 200 1 "-" "-" 0.2`);
  return Buffer.from(lines.join('\n'), 'utf8');
}

/**
 * What a batch holds after the lines, read from bytes into `table` or the batch, or read as text; the table's
 * last rows flushed into the batch's maps, or lent to it as rows.
 */
function ingest(
  bytes: Buffer,
  service: string,
  table?: MinuteTable | 'text',
  last: 'flush' | 'lend' = 'flush',
  batch = new BatchAggregate(THRESHOLDS, ACCEPTED, RULES),
) {
  const context: LineContext = {
    source: 'edge',
    service,
    routes: new ServiceRoutes(() => []),
    position: { lines: 0 },
    minuteTable: table === 'text' ? undefined : table,
  };
  // Two calls, as an import reads two chunks: the table's rows carry over between them.
  const half = bytes.lastIndexOf(10, bytes.length >> 1);
  const read = (part: Buffer) =>
    table === 'text'
      ? ingestLines(part.toString('utf8'), parseNginxLine, context, batch)
      : ingestBytes(part, parseNginxLine, parseNginxBytes, context, batch);
  const first = read(bytes.subarray(0, half));
  const second = read(bytes.subarray(half + 1));
  if (table instanceof MinuteTable && last === 'flush') table.flushInto(batch);
  if (table instanceof MinuteTable && last === 'lend') table.lendRowsTo(batch);
  return { first, second, observations: batch.observations, series: batch.series };
}

describe('MinuteTable', () => {
  const bytes = logLines(20_000);

  it('hands the batch the buckets the batch counts line by line, rows past its bound included', () => {
    const byBatch = ingest(bytes, 'web');
    const table = new MinuteTable('edge', THRESHOLDS);
    const byTable = ingest(bytes, 'web', table);
    expect(byTable).toEqual(byBatch);
    expect(byTable).toEqual(ingest(bytes, 'web', 'text'));
    expect(byBatch.first.rejected + byBatch.second.rejected).toBe(1);
    expect(byBatch.observations).toBe(20_001);
    expect(table.observations).toBe(0);
    const rows = [...byBatch.series.values()].reduce((sum, series) => sum + series.minutes.size, 0);
    expect(rows).toBeGreaterThan(4096);
  });

  it('leaves series with counting rules to the batch, which judges each line', () => {
    const table = new MinuteTable('edge', THRESHOLDS);
    const byTable = ingest(bytes, 'ruled', table);
    expect(byTable).toEqual(ingest(bytes, 'ruled'));
    // The agents the bytes parser left in the bytes are decoded for the rule, as the text parser reads them.
    expect(byTable).toEqual(ingest(bytes, 'ruled', 'text'));
    const counted = [...byTable.series.values()].flatMap((series) => [...series.minutes.values()]);
    const valid = counted.reduce((sum, delta) => sum + (delta.rules.get(validKey(7)) ?? 0), 0);
    const total = counted.reduce((sum, delta) => sum + delta.total, 0);
    expect(valid).toBeGreaterThan(0);
    expect(valid).toBeLessThan(total);
  });

  it('holds at most 10,000 series whatever names the lines bring, and still counts every line', () => {
    const letters = (i: number) =>
      [0, 1, 2, 3].map((k) => String.fromCharCode(65 + (Math.floor(i / 26 ** k) % 26))).join('');
    const lines = Array.from(
      { length: 12_000 },
      (_, i) =>
        `10.0.0.1 - - [${timeLocal(START + i * 1000)}] "${letters(i)} /r${i % 7} HTTP/1.1" 200 1 "-" "-" 0.1`,
    );
    const manyNames = Buffer.from(lines.join('\n'), 'utf8');
    const table = new MinuteTable('edge', THRESHOLDS);
    const byTable = ingest(manyNames, 'web', table);
    expect(table.seriesHeld).toBeLessThanOrEqual(10_000);
    expect(byTable).toEqual(ingest(manyNames, 'web'));
    expect(byTable.observations).toBe(12_000);
  });

  it('starts empty after a flush, so the next batch holds only what came after', () => {
    const table = new MinuteTable('edge', THRESHOLDS);
    ingest(bytes, 'web', table);
    const batch = new BatchAggregate(THRESHOLDS, ACCEPTED, RULES);
    table.flushInto(batch);
    expect(batch.series.size).toBe(0);
    expect(batch.observations).toBe(0);
  });

  it('moves its rows to another table, through a spare buffer or a new one, as if the lines were counted there', () => {
    const byBatch = ingest(bytes, 'web');
    // Chunks summed apart (a parsing thread's table), their rows added to the importing thread's table.
    const importing = new MinuteTable('edge', THRESHOLDS);
    const apart = new MinuteTable('edge', THRESHOLDS);
    const batch = new BatchAggregate(THRESHOLDS, ACCEPTED, RULES);
    const context = {
      source: 'edge',
      service: 'web',
      routes: new ServiceRoutes(() => []),
      position: { lines: 0 },
    };
    const tooSmall = new ArrayBuffer(8);
    const roomy = new ArrayBuffer(8 << 20);
    // Four chunks of whole lines; the rows of each go through no spare, one too small, then a roomy one.
    const cuts = [1, 2, 3].map((k) => bytes.indexOf(10, (bytes.length * k) >> 2));
    const chunks = [0, ...cuts.map((cut) => cut + 1)].map((from, i) => bytes.subarray(from, cuts[i]));
    const taken: number[] = [];
    for (const [i, spare] of [undefined, tooSmall, roomy, roomy].entries()) {
      const sums = new BatchAggregate(THRESHOLDS, ACCEPTED, RULES);
      ingestBytes(chunks[i]!, parseNginxLine, parseNginxBytes, { ...context, minuteTable: apart }, sums);
      const rows = apart.takeRows(spare);
      expect(rows.cells.buffer === spare).toBe(spare === roomy);
      taken.push(rows.observations);
      importing.addRows(batch, rows);
      batch.mergeSeries(sums.series, sums.observations, true);
    }
    expect(apart.observations).toBe(0);
    // No counting rule reads "web": every line counted lay in the rows taken.
    expect(taken.reduce((sum, n) => sum + n, 0)).toBe(byBatch.observations);
    importing.flushInto(batch);
    expect({ observations: batch.observations, series: batch.series }).toEqual({
      observations: byBatch.observations,
      series: byBatch.series,
    });
  });

  it('lends no rows once emptied, so an empty batch stays empty', () => {
    const table = new MinuteTable('edge', THRESHOLDS);
    const lent = new BatchAggregate(THRESHOLDS, ACCEPTED, RULES);
    ingest(bytes, 'web', table, 'lend', lent);
    expect(lent.rows[0]!.series.length).toBeGreaterThan(0);
    table.empty();
    const batch = new BatchAggregate(THRESHOLDS, ACCEPTED, RULES);
    table.lendRowsTo(batch);
    expect(batch.rows).toEqual([]);
    expect(batch.isEmpty).toBe(true);
  });
});

describe('MinuteTable rows written by the store', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.cleanup();
  });

  /** Every series and bucket row of a database, by series key (ids follow the order series were first written). */
  function storedRows(path: string) {
    const db = openDatabase(path);
    const rows = (table: 'minute_buckets' | 'hour_buckets', column: 'minute' | 'hour') =>
      db
        .prepare(
          `SELECT s.kind, s.source, s.service, s.operation, s.method, b.${column} AS slot, b.total, b.errors, b.histogram, b.thresholds, b.rule_counts FROM ${table} b JOIN series s ON s.id = b.series_id ORDER BY s.kind, s.source, s.service, s.operation, s.method, b.${column}`,
        )
        .all();
    const stored = {
      series: db
        .prepare(
          'SELECT kind, source, service, operation, method, first_seen_ms, last_seen_ms FROM series ORDER BY kind, source, service, operation, method',
        )
        .all(),
      minutes: rows('minute_buckets', 'minute'),
      hours: rows('hour_buckets', 'hour'),
    };
    db.close();
    return stored;
  }

  /**
   * The file's lines committed twice into one database (the second merges into rows already there, as a
   * resumed import does), the table's last rows flushed into the batch's maps or lent as rows, through series
   * caps of `perService` series a service.
   */
  function importTwice(bytes: Buffer, last: 'flush' | 'lend', perService: number) {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'sloguard.db');
    const db = openDatabase(path);
    const store = new BucketStore(db, 8);
    const limits = { maxSeries: 1_000, maxSeriesPerService: perService, maxServices: 10 };
    const none = { service: () => false, source: () => false, operation: () => false };
    const limiter = new SeriesLimiter(limits, none, []);
    for (let i = 0; i < 2; i++) {
      const table = new MinuteTable('edge', THRESHOLDS);
      const batch = new BatchAggregate(THRESHOLDS, ACCEPTED, RULES);
      ingest(bytes, 'web', table, last, batch);
      expect(batch.rows.length).toBe(last === 'lend' ? 1 : 0);
      store.commit(limiter.fold(batch));
      limiter.committed();
      table.empty();
    }
    const stored = storedRows(path);
    db.close();
    return stored;
  }

  it('stores the same series, minute and hour rows, byte for byte, as the batch maps did', () => {
    // 7,200 series-minutes in no order: the table fills and flushes into the batch's maps before it lends
    // its last rows, so a series is both in the maps and in the rows of one commit.
    const bytes = logLines(20_000);
    const byMaps = importTwice(bytes, 'flush', 1_000);
    const byRows = importTwice(bytes, 'lend', 1_000);
    expect(byMaps.minutes.length).toBeGreaterThan(4096);
    expect(byMaps.hours.length).toBeGreaterThan(0);
    expect(byRows).toEqual(byMaps);
    const total = (rows: readonly unknown[]) =>
      rows.reduce<number>((sum, row) => sum + (row as { total: number }).total, 0);
    expect(total(byRows.minutes)).toBe(2 * 20_001);
    expect(total(byRows.hours)).toBe(2 * 20_001);
  });

  it('folds rows past the series caps into the overflow series as it folds the maps', () => {
    const bytes = logLines(5_000);
    const byMaps = importTwice(bytes, 'flush', 10);
    const byRows = importTwice(bytes, 'lend', 10);
    expect(byMaps.series.length).toBeLessThan(20);
    expect(byRows).toEqual(byMaps);
  });
});
