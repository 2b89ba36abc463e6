import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { testApp } from '../helpers/app.js';
import { ROOT } from '../helpers/service.js';
import { SHOP_TRACE_SLOS } from '../helpers/shopSlos.js';
import { tempDir } from '../helpers/tmp.js';
import { protoSpans } from '../helpers/zipkinProto.js';

const FIXTURES = join(ROOT, 'test/fixtures/zipkin');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
/** The fixtures are real traces from 2016 to 2020: an hour retention long enough to take them. */
const FIXTURE_TIMES = { hourRetentionDays: 10_000 };

const apps: Awaited<ReturnType<typeof testApp>>[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
afterEach(async () => {
  for (const ctx of apps.splice(0)) await ctx.close();
  for (const dir of dirs.splice(0)) dir.cleanup();
});

async function app(overrides: Partial<Config> = {}) {
  const dir = tempDir('sloguard-zipkin-');
  dirs.push(dir);
  dir.file('shop.yaml', SHOP_TRACE_SLOS);
  const ctx = await testApp({ definitionsPath: dir.path, ...overrides });
  apps.push(ctx);
  return ctx;
}

type Ctx = Awaited<ReturnType<typeof app>>;
const post = (ctx: Ctx, payload: Buffer | string, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: '/api/v2/spans', payload, headers });

function statuses(ctx: Ctx) {
  return Object.fromEntries(
    ctx.sloguard.evaluator.evaluateAll().map((s) => [s.name, { good: s.good, valid: s.valid }]),
  );
}

interface RawSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: string;
  name: string;
  timestamp: number;
  duration: number;
  localEndpoint?: { serviceName: string; ipv4?: string; port?: number };
  tags?: Record<string, string>;
}

/** A fresh trace: one server span per request of the table, and one client call. */
function shopSpans(nowUs: number): RawSpan[] {
  const server = (i: number, route: string, status: string, durationUs: number, extra = {}) => ({
    traceId: (0x1000 + i).toString(16),
    id: (0x2000 + i).toString(16),
    kind: 'SERVER',
    name: 'get',
    timestamp: nowUs - i * 1000,
    duration: durationUs,
    localEndpoint: { serviceName: 'shop', ipv4: '10.0.0.2', port: 8080 },
    tags: { 'http.method': 'GET', 'http.route': route, 'http.status_code': status, ...extra },
  });
  return [
    server(1, '/items/:id', '200', 20_000),
    server(2, '/items/:id', '200', 150_000),
    server(3, '/items/:id', '503', 30_000),
    server(4, '/cart', '404', 5_000, { error: '404' }),
    {
      traceId: '1001',
      parentId: '2001',
      id: '3001',
      kind: 'CLIENT',
      name: 'get',
      timestamp: nowUs,
      duration: 10_000,
      localEndpoint: { serviceName: 'shop' },
      tags: { 'http.method': 'GET', 'http.path': '/stock/42', error: 'connection reset' },
    },
    { traceId: '1001', parentId: '2001', id: '3002', name: 'render', timestamp: nowUs, duration: 10 },
  ];
}

const EXPECTED = {
  'shop-availability': { good: 3, valid: 4 },
  'shop-item-latency': { good: 2, valid: 3 },
  'shop-outbound': { good: 0, valid: 1 },
};

describe('POST /api/v2/spans', () => {
  it('turns server spans into the SLIs of trace SLOs; client spans only where an SLO selects them', async () => {
    const ctx = await app();
    const response = await post(ctx, JSON.stringify(shopSpans(Date.now() * 1000)), {
      'content-type': 'application/json',
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ received: 6, counted: 5 });
    expect(statuses(ctx)).toMatchObject(EXPECTED);
  });

  it('gives the same SLIs for proto3, gzip JSON and gzip proto3 bodies', async () => {
    const spans = shopSpans(Date.now() * 1000);
    const json = Buffer.from(JSON.stringify(spans));
    const proto = protoSpans(spans);
    const bodies: [string, Buffer, Record<string, string>][] = [
      ['proto3', proto, { 'content-type': 'application/x-protobuf' }],
      ['gzip JSON', gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
      [
        'gzip proto3',
        gzipSync(proto),
        { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      ],
    ];
    for (const [encoding, body, headers] of bodies) {
      const ctx = await app();
      const response = await post(ctx, body, headers);
      expect(response.statusCode, encoding).toBe(202);
      expect(response.json(), encoding).toEqual({ received: 6, counted: 5 });
      expect(statuses(ctx), encoding).toMatchObject(EXPECTED);
    }
  });

  it('reads JSON whatever the content type says, or without one (sendBeacon sends text/plain)', async () => {
    const ctx = await app();
    const body = JSON.stringify(shopSpans(Date.now() * 1000).slice(0, 1));
    const contentTypes: Record<string, string>[] = [
      {},
      { 'content-type': 'text/plain;charset=UTF-8' },
      { 'content-type': 'application/octet-stream' },
    ];
    for (const headers of contentTypes) {
      const response = await post(ctx, body, headers);
      expect(response.statusCode, JSON.stringify(headers)).toBe(202);
    }
    expect(statuses(ctx)['shop-availability']).toEqual({ good: 3, valid: 3 });
  });

  it.each([
    ['zipkin-lens-envoy.json', { received: 1, counted: 0 }],
    ['zipkin-lens-ascend.json', { received: 8, counted: 6 }],
    ['zipkin-lens-messaging-kafka.json', { received: 28, counted: 16 }],
    ['zipkin-lens-skew.json', { received: 4, counted: 3 }],
  ])('accepts the Zipkin fixture %s', async (name, summary) => {
    const ctx = await app(FIXTURE_TIMES);
    const response = await post(ctx, fixture(name), { 'content-type': 'application/json' });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual(summary);
  });

  it('stores the fixture spans under their kind, service, route and method', async () => {
    const ctx = await app(FIXTURE_TIMES);
    await post(ctx, fixture('zipkin-lens-ascend.json'));
    const series = ctx.sloguard.buckets
      .listSeries('traces')
      .map(({ source, service, operation, method }) => `${source} ${service} ${method} ${operation}`)
      .sort();
    expect(series).toEqual([
      'client content-service GET /api/v1/banners/:id',
      'client mobile-gateway GET /auth-service/v1/authentications/',
      'client mobile-gateway GET /content/personal',
      'server auth-service GET /auth-service/v1/authentications/',
      'server content-service GET /content/personal',
      'server mobile-gateway GET /mobile-gateway/content/personal',
    ]);
  });

  it("refuses the single-object fixture with Zipkin's message, and accepts it wrapped in a list", async () => {
    const ctx = await app(FIXTURE_TIMES);
    const single = fixture('zipkin-benchmarks-zipkin2-chinese.single-span.json');
    const bare = await post(ctx, single, { 'content-type': 'application/json' });
    expect(bare.statusCode).toBe(400);
    expect(bare.json()).toEqual({
      error: 'invalid_spans',
      message: 'Expected a JSON_V2 encoded list',
      field: '$',
    });
    const wrapped = await post(ctx, Buffer.concat([Buffer.from('['), single, Buffer.from(']')]), {
      'content-type': 'application/json',
    });
    expect(wrapped.statusCode).toBe(202);
    expect(wrapped.json()).toEqual({ received: 1, counted: 1 });
    const [series] = ctx.sloguard.buckets.listSeries('traces');
    expect(series).toMatchObject({
      source: 'client',
      service: '订单维护服务',
      operation: '/person/profile/query',
    });
  });

  it('refuses a batch whole when one span is invalid: nothing of it is stored', async () => {
    const ctx = await app();
    const spans: object[] = shopSpans(Date.now() * 1000);
    spans.push({ traceId: '1', id: '2', timestamp: 1.5 });
    const response = await post(ctx, JSON.stringify(spans));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: 'invalid_spans',
      message: 'Expected a long but was 1.5 at path $[6].timestamp reading List<Span> from json',
      field: '$[6].timestamp',
    });
    expect(ctx.sloguard.buckets.listSeries('traces')).toEqual([]);
  });

  it('answers 202 to an empty body and to [] (Zipkin does), and 400 to broken gzip', async () => {
    const ctx = await app();
    expect((await post(ctx, '')).statusCode).toBe(202);
    expect((await post(ctx, '[]')).json()).toEqual({ received: 0, counted: 0 });
    const broken = await post(ctx, 'not gzip', { 'content-encoding': 'gzip' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ error: 'invalid_gzip' });
  });

  it('answers 413 with how to split a batch larger than the write queue, and takes smaller batches', async () => {
    const ctx = await app({ maxQueuedObservations: 3 });
    const spans = shopSpans(Date.now() * 1000);
    // More spans than the whole queue holds: retrying could never help (issue 15, finding 8), so not a 503.
    const full = await post(ctx, JSON.stringify(spans));
    expect(full.statusCode).toBe(413);
    expect(full.headers['retry-after']).toBeUndefined();
    expect(full.json()).toMatchObject({
      error: 'batch_too_large',
      message: expect.stringContaining('split'),
    });
    const small = await post(ctx, JSON.stringify(spans.slice(0, 2)));
    expect(small.statusCode).toBe(202);
    expect(statuses(ctx)['shop-availability']).toEqual({ good: 2, valid: 2 });
  });
});
