import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CARDINALITY_LIMITS } from '../../src/config/cardinality.js';
import type { Config } from '../../src/config/config.js';
import { OTHER_METHOD, OVERFLOW_LABEL } from '../../src/ingest/labels.js';
import { nginxLine, testApp } from '../helpers/app.js';
import { letters } from '../helpers/names.js';
import { tempDir } from '../helpers/tmp.js';

type Ctx = Awaited<ReturnType<typeof testApp>>;
const apps: Ctx[] = [];
const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(async () => {
  for (const ctx of apps.splice(0)) await ctx.close();
  for (const dir of dirs.splice(0)) dir.cleanup();
});

async function app(overrides: Partial<Config> = {}): Promise<Ctx> {
  const ctx = await testApp(overrides);
  apps.push(ctx);
  return ctx;
}

const nowMs = () => Date.now() - 1_000;

interface SpanFields {
  service: string;
  name: string;
  tags?: Record<string, string>;
}

function spanJson(i: number, timeUs: number, { service, name, tags }: SpanFields): string {
  const id = (i + 1).toString(16).padStart(16, '0');
  return JSON.stringify({
    traceId: id,
    id,
    kind: 'SERVER',
    name,
    timestamp: timeUs,
    duration: 1000,
    localEndpoint: { serviceName: service },
    tags: { 'http.status_code': '200', ...tags },
  });
}

const postSpans = (ctx: Ctx, spans: string[]) =>
  ctx.app.inject({ method: 'POST', url: '/api/v2/spans', payload: `[${spans.join(',')}]` });

const postLines = (ctx: Ctx, query: string, payload: string | Buffer) =>
  ctx.app.inject({ method: 'POST', url: `/api/v1/ingest/lb?${query}`, payload });

function seriesCounts(ctx: Ctx) {
  return ctx.sloguard.db
    .prepare<[], { kind: string; service: string; series: number }>(
      'SELECT kind, service, count(*) AS series FROM series GROUP BY kind, service',
    )
    .all();
}

const storedRequests = (ctx: Ctx, kind: string): number =>
  ctx.sloguard.db
    .prepare<[string], number>(
      'SELECT coalesce(sum(total), 0) FROM minute_buckets JOIN series ON series.id = series_id WHERE kind = ?',
    )
    .pluck()
    .get(kind)!;

describe('cardinality caps (finding 4)', () => {
  it('100k distinct http.route values of one service do not make 100k series; every request is still counted', async () => {
    const ctx = await app();
    const timeUs = nowMs() * 1000;
    const perRequest = 5_000;
    for (let start = 0; start < 100_000; start += perRequest) {
      const spans = Array.from({ length: perRequest }, (_, k) =>
        spanJson(start + k, timeUs, {
          service: 'crawled',
          name: 'get',
          tags: { 'http.method': 'GET', 'http.route': `/route/${start + k}` },
        }),
      );
      expect((await postSpans(ctx, spans)).statusCode).toBe(202);
    }
    const crawled = seriesCounts(ctx).find((row) => row.service === 'crawled')!;
    expect(crawled.series).toBeLessThanOrEqual(DEFAULT_CARDINALITY_LIMITS.maxSeriesPerService + 1);
    expect(storedRequests(ctx, 'traces')).toBe(100_000);
    const overflow = ctx.sloguard.buckets
      .listSeries('traces')
      .filter((row) => row.operation === OVERFLOW_LABEL);
    expect(overflow).toEqual([
      expect.objectContaining({ source: 'server', service: 'crawled', method: OTHER_METHOD }),
    ]);
    const metrics = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(
      `sloguard_series_overflow_total{cap="series_per_service"} ${100_000 - DEFAULT_CARDINALITY_LIMITS.maxSeriesPerService}`,
    );
  }, 120_000);

  it('holds the caps across a restart: series already stored count against them', async () => {
    const dir = tempDir('sloguard-cardinality-');
    dirs.push(dir);
    const settings = {
      databasePath: join(dir.path, 'sloguard.db'),
      cardinality: { ...DEFAULT_CARDINALITY_LIMITS, maxSeriesPerService: 10 },
    };
    const lines = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) =>
        nginxLine(nowMs(), 'GET', `/r/${letters(from + k)}`, 200, 0.01),
      ).join('\n');
    const first = await app(settings);
    expect((await postLines(first, 'format=nginx&service=shop', lines(0, 10))).json()).toMatchObject({
      accepted: 10,
    });
    await first.close();
    apps.splice(apps.indexOf(first), 1);

    const second = await app(settings);
    expect((await postLines(second, 'format=nginx&service=shop', lines(10, 15))).json()).toMatchObject({
      accepted: 5,
    });
    const operations = second.sloguard.buckets.listSeries().map((row) => row.operation);
    expect(operations).toHaveLength(11);
    expect(operations).toContain(OVERFLOW_LABEL);
    expect(operations).not.toContain('/r/k');
  });

  it('folds methods outside the HTTP set into OTHER', async () => {
    const ctx = await app();
    const body = ['PROPFIND', 'BREW', 'GET'].map((method) => nginxLine(nowMs(), method, '/x', 200, 0.01));
    expect((await postLines(ctx, 'format=nginx&service=shop', body.join('\n'))).json()).toMatchObject({
      accepted: 3,
    });
    expect(
      ctx.sloguard.buckets
        .listSeries()
        .map((row) => row.method)
        .sort(),
    ).toEqual(['GET', OTHER_METHOD]);
  });
});

describe('unsafe names (finding 13)', () => {
  it('rejects a log line whose route holds NUL or bytes that are not UTF-8, keeping the others', async () => {
    const ctx = await app();
    const t = nowMs();
    const good = nginxLine(t, 'GET', '/profile/1', 200, 0.01);
    const notUtf8 = Buffer.from(nginxLine(t, 'GET', '/p/XX', 200, 0.01).replace('XX', '\u0001\u0002'));
    notUtf8[notUtf8.indexOf(1)] = 0xff;
    notUtf8[notUtf8.indexOf(2)] = 0xfe;
    const body = Buffer.concat([Buffer.from(`${good}\n`), notUtf8, Buffer.from(`\n${good}\n`)]);
    const response = await postLines(ctx, 'format=nginx&service=user-profile', body);
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({
      accepted: 2,
      rejected: 1,
      skipped: 0,
      reasons: { invalid_line: 1 },
      problems: [{ line: 2, reason: 'operation is not valid UTF-8' }],
    });
    const jsonl = [
      JSON.stringify({ time: t, method: 'GET', path: '/a\u0000b', status: 200 }),
      JSON.stringify({ time: t, method: 'GET', path: '/ok', status: 200 }),
    ].join('\n');
    expect((await postLines(ctx, 'format=jsonl&service=shop', jsonl)).json()).toMatchObject({
      accepted: 1,
      rejected: 1,
      problems: [{ line: 1, reason: 'operation contains NUL' }],
    });
    const stored = ctx.sloguard.buckets.listSeries().map((row) => row.operation);
    expect(stored.sort()).toEqual(['/ok', '/profile/:id']);
  });

  it('answers 400 naming the parameter for service= or source= with NUL or a control character', async () => {
    const ctx = await app();
    const line = nginxLine(nowMs(), 'GET', '/x', 200, 0.01);
    const service = await postLines(ctx, 'format=nginx&service=a%00b', line);
    expect(service.statusCode).toBe(400);
    expect(service.json()).toEqual({
      error: 'invalid_query',
      message: 'service contains NUL',
      field: 'service',
    });
    const source = await postLines(ctx, 'format=nginx&service=shop&source=edge%0A1', line);
    expect(source.statusCode).toBe(400);
    expect(source.json()).toMatchObject({ error: 'invalid_query', field: 'source' });
    expect(ctx.sloguard.buckets.listSeries()).toEqual([]);
  });

  it('refuses a span batch whose service or span name holds NUL or an unpaired surrogate, naming the span', async () => {
    const ctx = await app();
    const timeUs = nowMs() * 1000;
    const ok = spanJson(0, timeUs, { service: 'shop', name: 'get /items' });
    const nul = spanJson(1, timeUs, { service: 'sh\u0000op', name: 'get' });
    const refused = await postSpans(ctx, [ok, nul]);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({
      error: 'invalid_spans',
      message: 'span $[1]: service contains NUL',
      field: '$[1]',
    });
    // JSON lets a string carry half a surrogate pair: it is no UTF-8 text.
    const surrogate = ok.replace('get /items', '\\ud800get');
    const broken = await postSpans(ctx, [surrogate]);
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ message: 'span $[0]: operation is not valid UTF-8' });
    expect(ctx.sloguard.buckets.listSeries()).toEqual([]);
  });
});
