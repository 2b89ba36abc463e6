import { afterEach, describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { ANY_TIME } from '../../src/ingest/timeRange.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { nginxLine, testApp } from '../helpers/app.js';
import { cpuTimedAsync } from '../helpers/cpu.js';
import { fixtureLines } from '../helpers/lbFixtures.js';
import { protoSpans } from '../helpers/zipkinProto.js';

// Issue 15, findings 1–3: times from a hostile or unlucky sender. Each case failed before the accepted range.
const DAY = 86_400_000;

let ctx: Awaited<ReturnType<typeof testApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

async function app() {
  ctx = await testApp();
  return ctx;
}

type Ctx = Awaited<ReturnType<typeof app>>;

const jsonl = (ctx: Ctx, lines: string[]) =>
  ctx.app.inject({
    method: 'POST',
    url: '/api/v1/ingest/lb?format=jsonl&service=user-profile',
    payload: lines.join('\n'),
  });

const line = (time: unknown, status = 200) =>
  JSON.stringify({ time, method: 'GET', path: '/profile/1', status });

/** Requests stored for the profile route, summed over every bucket of every series. */
function storedRequests(ctx: Ctx): number {
  const row = ctx.sloguard.db.prepare(`SELECT COALESCE(SUM(total), 0) AS n FROM minute_buckets`).get() as {
    n: number;
  };
  return row.n;
}

async function rejectedMetric(ctx: Ctx, source: string): Promise<number> {
  const text = (await ctx.app.inject({ url: '/metrics' })).body;
  const match = new RegExp(
    `^sloguard_ingest_rejected_total\\{source="${source}",reason="time_out_of_range"\\} (\\d+)$`,
    'm',
  ).exec(text);
  return match ? Number(match[1]) : 0;
}

describe('query ranges (finding 1)', () => {
  it.each([
    ['from=100000000000000000000000&to=100000000000000020000000&step=3600', 'to'],
    ['from=100000000000000000000000&step=3600', 'from'],
    ['to=99999999999999', 'to'],
    ['from=1e23&to=1e23', 'to'],
    [`from=${'9'.repeat(400)}`, 'from'],
    ['from=0', 'from'],
  ])('answers 400 naming the field, at once: %s', async (query, field) => {
    const ctx = await app();
    // CPU time: a busy machine does not stretch it.
    const { result: response, ms } = await cpuTimedAsync(() =>
      ctx.app.inject({ url: `/api/v1/slos/profile-availability/timeseries?${query}` }),
    );
    expect(ms).toBeLessThan(1_000);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_query', field });
  });

  it('refuses a step that is not a whole number of milliseconds or makes too many points', async () => {
    const ctx = await app();
    const nowS = Math.floor(Date.now() / 1000);
    // The last: a month at one-minute steps is 43,200 points.
    for (const step of ['1e300', '60.0001', '9'.repeat(30), '1m']) {
      const from = step === '1m' ? nowS - 30 * 86_400 : nowS - 3600;
      const response = await ctx.app.inject({
        url: `/api/v1/slos/profile-availability/timeseries?from=${from}&to=${nowS}&step=${step}`,
      });
      expect(response.statusCode, step).toBe(400);
      expect(response.json().field).toBe('step');
    }
  });

  it('keeps the decisions and deployments lists to the accepted range', async () => {
    const ctx = await app();
    for (const url of ['/api/v1/gate/decisions?to=99999999999999', '/api/v1/deployments?from=1e23']) {
      const response = await ctx.app.inject({ url });
      expect(response.statusCode, url).toBe(400);
    }
  });
});

describe('times that would poison the store (finding 2)', () => {
  it('rejects jsonl lines stamped 1e300 or with a 400-digit time, and the API keeps answering', async () => {
    const ctx = await app();
    const response = await jsonl(ctx, [line(1e300), line('9'.repeat(400)), line(Date.now() - 1000)]);
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({
      accepted: 1,
      rejected: 2,
      reasons: { time_out_of_range: 1, invalid_line: 1 },
    });
    expect(response.json().problems[0]).toMatchObject({
      line: 1,
      reason: expect.stringMatching(/ahead of the server clock/),
    });
    expect(storedRequests(ctx)).toBe(1);
    ctx.sloguard.evaluator.evaluateAll();
    const slos = await ctx.app.inject({ url: '/api/v1/slos' });
    expect(slos.statusCode, slos.body).toBe(200);
    expect(await rejectedMetric(ctx, 'loadbalancer')).toBe(1);
  });

  it('refuses a Zipkin batch whose span starts past 8.64e18 µs, JSON or proto3, naming the span', async () => {
    const ctx = await app();
    const span = (timestamp: number | string) => ({
      traceId: 'a1',
      id: 'b1',
      kind: 'SERVER',
      name: 'get /profile/:id',
      timestamp,
      duration: 1000,
      localEndpoint: { serviceName: 'user-profile' },
    });
    const good = span(Date.now() * 1000);
    const json = await ctx.app.inject({
      method: 'POST',
      url: '/api/v2/spans',
      payload: JSON.stringify([good, { ...span(9e18), id: 'b2' }]),
      headers: { 'content-type': 'application/json' },
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: 'time_out_of_range', field: '$[1].timestamp' });
    const proto = await ctx.app.inject({
      method: 'POST',
      url: '/api/v2/spans',
      payload: protoSpans([{ ...span('18446744073709551615'), timestamp: '18446744073709551615' } as never]),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    expect(proto.statusCode, proto.body).toBe(400);
    expect(proto.json()).toMatchObject({ error: 'time_out_of_range', field: '$[0].timestamp' });
    expect(storedRequests(ctx)).toBe(0);
    expect(await rejectedMetric(ctx, 'traces')).toBe(2);
  });

  it('answers 400 naming the field for a deployment at "99999999999999", and stores nothing', async () => {
    const ctx = await app();
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      payload: { service: 'user-profile', version: 'v1', time: '99999999999999' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: 'invalid_query',
      field: 'time',
      message: expect.stringMatching(/^time "99999999999999" is ahead of the server clock/),
    });
    expect(ctx.sloguard.deployments.list({ limit: 10 })).toEqual([]);
  });

  it('does not fail on a last-seen time or bucket from the future that an older version stored', async () => {
    const ctx = await app();
    await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&service=user-profile',
      payload: nginxLine(Date.now() - 1000, 'GET', '/profile/1', 200, 0.1),
    });
    ctx.sloguard.db.prepare(`UPDATE series SET last_seen_ms = 1e300`).run();
    const nowMs = Date.now();
    ctx.sloguard.evaluator.evaluateAll(nowMs);
    const slos = await ctx.app.inject({ url: '/api/v1/slos' });
    expect(slos.statusCode, slos.body).toBe(200);
    const one = await ctx.app.inject({ url: '/api/v1/slos/profile-availability' });
    expect(one.statusCode, one.body).toBe(200);
    const overview = await ctx.app.inject({ url: '/api/v1/slos/profile-availability/timeseries' });
    expect(overview.statusCode, overview.body).toBe(200);
  });

  it('migrates away future buckets, deployments and last-seen times an older version stored', async () => {
    const ctx = await app();
    const { db, buckets } = ctx.sloguard;
    // An older version's batch: any time a Date holds.
    const batch = new BatchAggregate([], ANY_TIME);
    const series = batch.seriesFor('loadbalancer', 'lb', 'user-profile', '/profile/:id', 'GET');
    const nowMs = Date.now();
    batch.count(series, nowMs - 60_000, false, undefined);
    for (let i = 0; i < 1000; i++) batch.count(series, nowMs + DAY, true, undefined);
    buckets.commit(batch);
    db.prepare(
      `INSERT INTO deployments (id, service, environment, version, deployed_at_ms, source) VALUES ('d1', 'user-profile', '', 'v1', 1e17, 'api')`,
    ).run();
    const migration = MIGRATIONS.find((sql) => sql.includes('Versions before the accepted time range'))!;
    db.exec(migration);
    expect(storedRequests(ctx)).toBe(1);
    const hours = db.prepare(`SELECT COALESCE(SUM(total), 0) AS n FROM hour_buckets`).get() as { n: number };
    expect(hours.n).toBe(1);
    const seen = db.prepare(`SELECT last_seen_ms AS ms FROM series`).get() as { ms: number };
    expect(seen.ms).toBeLessThanOrEqual(Date.now());
    expect(db.prepare(`SELECT count(*) AS n FROM deployments`).get()).toEqual({ n: 0 });
  });
});

describe('times ahead of the clock or behind the retention (finding 3)', () => {
  it('rejects 1,000 503s stamped tomorrow and a line from before the hour retention, counted by reason', async () => {
    const ctx = await app();
    const tomorrow = Array.from({ length: 1000 }, () => line(Date.now() + DAY, 503));
    const old = line(Date.now() - 401 * DAY);
    const skewed = line(Date.now() + 60_000);
    const response = await jsonl(ctx, [old, ...tomorrow, skewed]);
    expect(response.json()).toMatchObject({
      accepted: 1,
      rejected: 1001,
      reasons: { time_out_of_range: 1001 },
    });
    expect(response.json().problems[0]).toMatchObject({
      line: 1,
      reason: expect.stringMatching(/before the hour retention/),
    });
    expect(response.json().problems[1]).toMatchObject({
      line: 2,
      reason: expect.stringMatching(/ahead of the server clock/),
    });
    expect(storedRequests(ctx)).toBe(1);
    expect(await rejectedMetric(ctx, 'loadbalancer')).toBe(1001);
  });

  it('takes the allowed skew from SLOGUARD_MAX_CLOCK_SKEW', async () => {
    ctx = await testApp({}, { SLOGUARD_MAX_CLOCK_SKEW: '0s' });
    const response = await jsonl(ctx, [line(Date.now() + 60_000)]);
    expect(response.json()).toMatchObject({ accepted: 0, reasons: { time_out_of_range: 1 } });
  });
});

describe('every log format goes through the same range', () => {
  // Real logs from 2000 to 2024 (test/fixtures/lb): all before the default 400-day hour retention.
  it.each([
    ['alb', 'aws-alb-access.log', 7],
    ['envoy', 'envoy-default-access.log', 1],
    ['gcp', 'gcp-lb-requests.elastic-cdn.jsonl', 3],
    ['haproxy', 'haproxy-httplog.log', 6],
    ['ingress-nginx', 'nginx-ingress-upstreaminfo.log', 27],
    ['traefik', 'traefik-access.json.log', 7],
    ['traefik', 'traefik-access-common.log', 8],
    ['nginx', 'nginx-combined.log', 6],
  ])('format=%s: the lines of %s are rejected as before the retention', async (format, file, lines) => {
    const ctx = await app();
    const response = await ctx.app.inject({
      method: 'POST',
      url: `/api/v1/ingest/lb?format=${format}&service=web`,
      payload: fixtureLines(file).join('\n'),
    });
    expect(response.json()).toMatchObject({ accepted: 0, reasons: { time_out_of_range: lines } });
    expect(storedRequests(ctx)).toBe(0);
  });
});
