import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import snappy from 'snappyjs';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveCollectorRole } from '../../src/config/collector.js';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { MinuteTable } from '../../src/ingest/loadbalancer/minuteTable.js';
import type { Observation } from '../../src/model/observation.js';
import { WriteBuffer } from '../../src/remote/buffer.js';
import { RemoteWriteCollector } from '../../src/remote/collector.js';
import { CollectorCounters, DURATION_LADDER_US, STALE_AFTER_MS } from '../../src/remote/counters.js';
import { outcomeOf, RemoteWriteSender } from '../../src/remote/sender.js';
import { decodeWriteRequest, encodeWriteRequest, type TimeSeries } from '../../src/remote/writeRequest.js';
import { tempFolders } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const RULE = {
  id: 7,
  kind: 'traces' as const,
  service: 'shop',
  rules: { bad: [{ from: 500, to: 599 }], exclude: [] },
};

function batch(observations: Array<Partial<Observation>>): BatchAggregate {
  const aggregate = new BatchAggregate([250_000, ...DURATION_LADDER_US], undefined, [RULE]);
  for (const o of observations)
    aggregate.add({
      timeMs: 1_000,
      kind: 'traces',
      source: 'server',
      service: 'shop',
      operation: '/items/:id',
      method: 'GET',
      error: (o.status ?? 200) >= 500,
      ...o,
    });
  return aggregate;
}

const name = (series: TimeSeries) => series.labels.find((l) => l.name === '__name__')?.value;
const label = (series: TimeSeries, key: string) => series.labels.find((l) => l.name === key)?.value;
const find = (all: TimeSeries[], metric: string, extra: Record<string, string> = {}) =>
  all.find((s) => name(s) === metric && Object.entries(extra).every(([k, v]) => label(s, k) === v));

describe('collector counters (the series contract)', () => {
  const counters = () => new CollectorCounters('c-1', (key) => (key.service === 'shop' ? [250_000] : []));

  it('counts requests, errors, rule verdicts and every bound exactly, labels sorted by name', () => {
    const c = counters();
    c.add(
      batch([
        { status: 200, durationUs: 100_000 },
        { status: 503, durationUs: 250_000 },
        { status: 200, durationUs: 250_001 },
        { status: 200 },
      ]),
      10_000,
    );
    const out = [...c.samplesAt(15_000, 15_000)];
    const value = (metric: string, extra?: Record<string, string>) =>
      find(out, metric, extra)?.samples.at(-1)?.value;
    expect(value('sloguard_requests_total')).toBe(4);
    expect(value('sloguard_request_errors_total')).toBe(1);
    expect(value('sloguard_request_duration_seconds_count')).toBe(3);
    expect(value('sloguard_request_duration_seconds_bucket', { le: '0.25' })).toBe(2);
    expect(value('sloguard_request_duration_seconds_bucket', { le: '0.1' })).toBe(1);
    expect(value('sloguard_request_duration_seconds_bucket', { le: '0.5' })).toBe(3);
    expect(value('sloguard_request_duration_seconds_bucket', { le: '+Inf' })).toBe(3);
    expect(value('sloguard_rule_events_total', { rule: '7', verdict: 'valid' })).toBe(4);
    expect(value('sloguard_rule_events_total', { rule: '7', verdict: 'bad' })).toBe(1);
    const requests = find(out, 'sloguard_requests_total')!;
    expect(requests.labels.map((l) => l.name)).toEqual([
      '__name__',
      'collector',
      'kind',
      'method',
      'operation',
      'service',
      'source',
    ]);
    expect(label(requests, 'collector')).toBe('c-1');
  });

  it('counts rule verdicts of a combined batch (group commit), whose series carry no rule list', () => {
    const c = counters();
    c.add(BatchAggregate.combine([batch([{ status: 503 }]), batch([{ status: 200 }])]), 10_000);
    const out = [...c.samplesAt(15_000, 15_000)];
    const value = (verdict: string) =>
      find(out, 'sloguard_rule_events_total', { rule: '7', verdict })?.samples.at(-1)?.value;
    expect([value('valid'), value('bad')]).toEqual([2, 1]);
  });

  it('counts the rows an import lends the batch as it counts the lines themselves', () => {
    const lines = [
      { timeMs: 1_000, error: false, durationUs: 100_000 },
      { timeMs: 2_000, error: true, durationUs: 250_000 },
      { timeMs: 61_000, error: false, durationUs: 900_000 },
      { timeMs: 3_700_000, error: false, durationUs: 250_001 },
    ];
    const thresholds = [250_000, ...DURATION_LADDER_US];
    const byLines = new BatchAggregate(thresholds);
    const byRows = new BatchAggregate(thresholds);
    const table = new MinuteTable('edge', byRows.thresholdsUs);
    for (const { timeMs, error, durationUs } of lines) {
      const at = {
        kind: 'loadbalancer',
        source: 'edge',
        service: 'shop',
        operation: '/a',
        method: 'GET',
      } as const;
      byLines.add({ ...at, timeMs, error, durationUs });
      table.count(byRows, 'shop', '/a', 'GET', timeMs, error, durationUs);
    }
    table.lendRowsTo(byRows);
    expect(byRows.rows).toHaveLength(1);
    const samples = (committed: BatchAggregate) => {
      const c = counters();
      c.add(committed, 10_000);
      return [...c.samplesAt(15_000, 15_000)];
    };
    const fromRows = samples(byRows);
    expect(fromRows).toEqual(samples(byLines));
    expect(find(fromRows, 'sloguard_requests_total')?.samples.at(-1)?.value).toBe(4);
  });

  it('writes a leading 0 at the grid point before the first increment, then one sample per grid point', () => {
    const c = counters();
    c.add(batch([{ status: 200 }]), 16_000);
    expect(find([...c.samplesAt(30_000, 15_000)], 'sloguard_requests_total')!.samples).toEqual([
      { value: 0, timestamp: 15_000 },
      { value: 1, timestamp: 30_000 },
    ]);
    c.add(batch([{ status: 200 }]), 31_000);
    expect(find([...c.samplesAt(45_000, 15_000)], 'sloguard_requests_total')!.samples).toEqual([
      { value: 2, timestamp: 45_000 },
    ]);
    // The same grid point is never written twice (engines refuse it).
    expect([...c.samplesAt(45_000, 15_000)]).toEqual([]);
  });

  it('stops writing a series idle past the staleness and resumes it with its last value first', () => {
    const c = counters();
    c.add(batch([{ status: 200 }]), 0);
    [...c.samplesAt(15_000, 15_000)];
    expect([...c.samplesAt(15_000 + STALE_AFTER_MS + 15_000, 15_000)]).toEqual([]);
    c.add(batch([{ status: 200 }]), 600_000);
    expect(find([...c.samplesAt(615_000, 15_000)], 'sloguard_requests_total')!.samples).toEqual([
      { value: 1, timestamp: 600_000 },
      { value: 2, timestamp: 615_000 },
    ]);
  });
});

describe('remote write encoding', () => {
  it('is a snappy block of a prometheus.WriteRequest that decodes to the same series', () => {
    const series: TimeSeries[] = [
      {
        labels: [
          { name: '__name__', value: 'sloguard_requests_total' },
          { name: 'service', value: 'shop' },
        ],
        samples: [{ value: 3, timestamp: 1_764_820_815_000 }],
      },
    ];
    const body = encodeWriteRequest(series);
    expect(snappy.uncompress(body).byteLength).toBeGreaterThan(body.byteLength / 2);
    expect(decodeWriteRequest(body)).toEqual(series);
  });

  it('retries 5xx and 429, refuses any other 4xx for good', () => {
    expect([200, 204, 429, 500, 503, 400, 404, 413, 302].map(outcomeOf)).toEqual([
      'delivered',
      'delivered',
      'retry',
      'retry',
      'retry',
      'refused',
      'refused',
      'refused',
      'refused',
    ]);
  });
});

describe('the on-disk buffer and its sender', () => {
  const dirs = tempFolders();
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    dirs.cleanup();
  });

  it('drops the oldest writes past its bound and counts them; what it holds survives a reopen', () => {
    const path = `${dirs.write({})}/buffer.db`;
    const dropped: number[] = [];
    const buffer = new WriteBuffer(path, 1_048_576, (write) => dropped.push(write.gridMs));
    for (let grid = 1; grid <= 5; grid++) buffer.push(grid, new Uint8Array(400_000));
    expect(buffer.dropped).toBe(3);
    expect(dropped).toEqual([1, 2, 3]);
    expect(buffer.bytes).toBe(800_000);
    buffer.close();
    const reopened = new WriteBuffer(path, 1_048_576);
    expect([reopened.writes, reopened.peek()?.gridMs]).toEqual([2, 4]);
    reopened.close();
  });

  it('sends in order with the remote-write headers, retrying a 503 and dropping a 400', async () => {
    const seen: Array<{ grid: number; headers: Record<string, unknown> }> = [];
    const answers = [503, 204, 400, 204];
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({
          grid: decodeWriteRequest(Buffer.concat(chunks))[0]!.samples[0]!.timestamp,
          headers: request.headers,
        });
        response.writeHead(answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
    const buffer = new WriteBuffer(`${dirs.write({})}/b.db`, 1_048_576);
    const body = (grid: number) =>
      encodeWriteRequest([
        { labels: [{ name: '__name__', value: 'x' }], samples: [{ value: 1, timestamp: grid }] },
      ]);
    for (const grid of [1, 2, 3]) buffer.push(grid, body(grid));
    const outcomes: string[] = [];
    const sender = new RemoteWriteSender(
      buffer,
      { url, timeoutMs: 2_000 },
      {
        onDone: (outcome, write) => outcomes.push(`${write.gridMs}:${outcome}`),
        onRetry: (write) => outcomes.push(`${write.gridMs}:retry`),
      },
    );
    sender.start();
    await waitFor('the buffer to drain', () => buffer.writes === 0);
    await sender.stop();
    buffer.close();
    expect(outcomes).toEqual(['1:retry', '1:delivered', '2:refused', '3:delivered']);
    expect(seen.map((s) => s.grid)).toEqual([1, 1, 2, 3]);
    expect(seen[0]!.headers).toMatchObject({
      'content-encoding': 'snappy',
      'content-type': 'application/x-protobuf',
      'x-prometheus-remote-write-version': '0.1.0',
    });
  });
});

describe('a sender against an engine that never answers', () => {
  const dirs = tempFolders();
  let hung: Server | undefined;
  afterEach(() => {
    hung?.closeAllConnections();
    hung?.close();
    dirs.cleanup();
  });

  it('gives up on an attempt after its timeout and keeps the write for the retry', async () => {
    hung = createServer(() => {});
    await new Promise<void>((resolve) => hung!.listen(0, '127.0.0.1', resolve));
    const buffer = new WriteBuffer(`${dirs.write({})}/b.db`, 1_048_576);
    buffer.push(1, encodeWriteRequest([]));
    const retries: Array<string | undefined> = [];
    const sender = new RemoteWriteSender(
      buffer,
      { url: `http://127.0.0.1:${(hung.address() as AddressInfo).port}/api/v1/write`, timeoutMs: 200 },
      { onDone: () => {}, onRetry: (_write, detail) => retries.push(detail.error) },
    );
    sender.start();
    await waitFor('a timed-out attempt', () => retries.length > 0);
    await sender.stop();
    expect(retries[0]).toMatch(/abort/i);
    expect(buffer.writes).toBe(1);
    buffer.close();
  });
});

describe('a collector flush', () => {
  const dirs = tempFolders();
  afterEach(() => dirs.cleanup());

  it('writes a grid point in parts of at most 5,000 series, every counter once', async () => {
    const quiet = { info() {}, warn() {}, error() {} };
    const role = {
      remoteWriteUrl: 'http://127.0.0.1:9/api/v1/write',
      id: 'c',
      flushIntervalMs: 15_000,
      timeoutMs: 1_000,
      bufferPath: `${dirs.write({})}/b.db`,
      bufferMaxBytes: 64 * 1_048_576,
    };
    const collector = new RemoteWriteCollector(
      role,
      () => [],
      quiet,
      () => 20_000,
    );
    collector.commit(
      batch(Array.from({ length: 1_000 }, (_, i) => ({ operation: `/r${i}`, durationUs: 1_000 }))),
    );
    await collector.flushAt(15_000);
    // 1,000 series keys × 19 counters (3, 13 ladder bounds, +Inf, valid and bad of one rule).
    const parts: TimeSeries[][] = [];
    for (let write = collector.buffer.peek(); write; write = collector.buffer.peek()) {
      parts.push(decodeWriteRequest(write.body));
      collector.buffer.remove(write.id);
    }
    expect(parts.map((part) => part.length)).toEqual([5_000, 5_000, 5_000, 4_000]);
    const names = parts.flat().map((series) => series.labels.map((l) => `${l.name}=${l.value}`).join(','));
    expect(new Set(names).size).toBe(19_000);
    await collector.flushAt(15_000);
    expect(collector.buffer.writes).toBe(0);
    collector.buffer.close();
  });
});

describe('a collector stamping by arrival', () => {
  const dirs = tempFolders();
  afterEach(() => dirs.cleanup());

  it('stamps a batch that arrives after a grid point whose flush is late with the next grid point', async () => {
    const quiet = { info() {}, warn() {}, error() {} };
    let nowMs = 10_000;
    const collector = new RemoteWriteCollector(
      {
        remoteWriteUrl: 'http://127.0.0.1:9/api/v1/write',
        id: 'c',
        flushIntervalMs: 15_000,
        timeoutMs: 1_000,
        bufferPath: `${dirs.write({})}/b.db`,
        bufferMaxBytes: 1_048_576,
      },
      () => [],
      quiet,
      () => nowMs,
    );
    collector.commit(batch([{ status: 200 }]));
    await collector.flushAt(15_000);
    // Arrives 3 ms after 30 000, before that grid point's flush ran (the loop was busy).
    nowMs = 30_003;
    collector.commit(batch([{ status: 200 }, { status: 200 }]));
    await collector.flushAt(30_000);
    await collector.flushAt(45_000);
    const requests: Array<[number, number]> = [];
    for (let write = collector.buffer.peek(); write; write = collector.buffer.peek()) {
      const series = find(decodeWriteRequest(write.body), 'sloguard_requests_total')!;
      for (const sample of series.samples) requests.push([sample.timestamp, sample.value]);
      collector.buffer.remove(write.id);
    }
    expect(requests).toEqual([
      [0, 0],
      [15_000, 1],
      [30_000, 1],
      [45_000, 3],
    ]);
    collector.buffer.close();
  });
});

describe('collector settings', () => {
  const fail = (field: string, message: string): never => {
    throw new Error(`${field}: ${message}`);
  };

  it('is off without a remote-write URL, and defaults the rest', () => {
    expect(resolveCollectorRole(undefined, {}, 'data/s.db', fail)).toBeUndefined();
    const role = resolveCollectorRole(
      { remoteWriteUrl: 'http://vm:8428/api/v1/write' },
      {},
      'data/s.db',
      fail,
    )!;
    expect(role).toMatchObject({
      flushIntervalMs: 15_000,
      bufferPath: 'data/s.db.remote-write',
      timeoutMs: 10_000,
    });
    expect(role.id).toMatch(new RegExp(`-${process.pid}$`));
  });

  it('takes SLOGUARD_COLLECTOR_* over the file and names a bad field', () => {
    const env = { SLOGUARD_COLLECTOR_REMOTE_WRITE_URL: 'http://a/w', SLOGUARD_COLLECTOR_ID: 'edge-1' };
    expect(resolveCollectorRole({ id: 'x', flushInterval: '30s' }, env, 'd', fail)).toMatchObject({
      remoteWriteUrl: 'http://a/w',
      id: 'edge-1',
      flushIntervalMs: 30_000,
    });
    expect(() =>
      resolveCollectorRole({ remoteWriteUrl: 'http://a/w', flushInterval: '1500ms' }, {}, 'd', fail),
    ).toThrow(/collector.flushInterval/);
    expect(() => resolveCollectorRole({ remoteWriteUrl: 'ftp://a' }, {}, 'd', fail)).toThrow(
      /collector.remoteWriteUrl/,
    );
  });
});
