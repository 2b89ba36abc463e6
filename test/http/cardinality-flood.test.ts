import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CARDINALITY_LIMITS } from '../../src/config/cardinality.js';
import { CAPS } from '../../src/ingest/cardinality.js';
import { nginxLine, testApp } from '../helpers/app.js';
import { letters } from '../helpers/names.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The cardinality flood of issue 15: a million distinct values spread over every label that keys a series
 * (service, source, route, span name, method) through the real ingest routes, against the caps. The store
 * keeps at most the caps' series, the process stays under the RSS ceiling documented in docs/security.md, and
 * an evaluation of every SLO costs what it costs in an unflooded twin (within 2×, medians of several runs).
 */

/** docs/security.md#cardinality: the ceiling for this flood (vitest and the app in one process). */
const RSS_CEILING_BYTES = 512 * 1024 * 1024;
const LIMITS = { ...DEFAULT_CARDINALITY_LIMITS, maxSeries: 20_000 };
const SPANS = 250_000;
const LINES = 125_000;
const PER_REQUEST = 5_000;

type Ctx = Awaited<ReturnType<typeof testApp>>;
/** The flooded service, and a twin with the same SLO traffic and no flood: the baseline, timed alongside. */
let ctx: Ctx;
let twin: Ctx;
beforeAll(async () => {
  ctx = await testApp({ cardinality: LIMITS });
  twin = await testApp({ cardinality: LIMITS });
});
afterAll(async () => {
  await ctx?.close();
  await twin?.close();
});

/**
 * Median wall time of 50 runs of `work` in the flooded service and in its twin, samples taken in turn so that
 * load from elsewhere on the machine weighs on both alike. One evaluation of these SLOs, or one gate answer, is
 * about a millisecond: too short to time alone.
 */
async function medianMs(
  work: (app: Ctx) => unknown,
  samples = 11,
  runs = 50,
): Promise<{ flooded: number; baseline: number }> {
  const times = new Map<Ctx, number[]>([
    [ctx, []],
    [twin, []],
  ]);
  for (const app of times.keys()) {
    await settled(app);
    await work(app);
  }
  for (let sample = 0; sample < samples; sample++) {
    for (const [app, taken] of times) {
      const started = performance.now();
      for (let i = 0; i < runs; i++) await work(app);
      taken.push(performance.now() - started);
    }
  }
  const median = (taken: number[]) => taken.sort((a, b) => a - b)[Math.floor(samples / 2)]!;
  return { flooded: median(times.get(ctx)!), baseline: median(times.get(twin)!) };
}

/**
 * Waits until the WAL is folded into the database and truncated: reads through a WAL of the flood's hundreds
 * of MB (while the checkpoint thread copies it) are slower than reads of the database, whatever the caps do.
 */
async function settled(app: Ctx): Promise<void> {
  await waitFor(
    'the WAL checkpointed and truncated',
    () => {
      const [result] = app.sloguard.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{
        busy: number;
        log: number;
      }>;
      return result?.busy === 0 && result.log === 0;
    },
    { timeoutMs: 60_000 },
  );
}

const evaluate = (app: Ctx) => app.sloguard.evaluator.evaluateAll();
async function askGate(app: Ctx): Promise<void> {
  const response = await app.app.inject({
    method: 'GET',
    url: '/api/v1/gate?service=checkout&environment=production&sha=abc123',
  });
  // A tenth of the test's orders take 900 ms, overspending the latency SLO: both services deny.
  expect(response.statusCode).toBe(423);
}

async function post(url: string, payload: string, app = ctx): Promise<void> {
  const response = await app.app.inject({ method: 'POST', url, payload });
  expect(response.statusCode, response.body.slice(0, 200)).toBe(202);
}

/** A real SLO load first: the SLOs' own series, with some errors and latencies, over the last hour. */
async function sloTraffic(app: Ctx): Promise<void> {
  const t = Date.now() - 60 * 60_000;
  const lines: string[] = [];
  for (let i = 0; i < 3_000; i++) {
    const at = t + i * 1_000;
    lines.push(nginxLine(at, 'GET', `/profile/${i}`, i % 50 === 0 ? 503 : 200, 0.05 + (i % 7) / 10));
  }
  await post('/api/v1/ingest/lb?format=nginx&service=user-profile&source=edge', lines.join('\n'), app);
  const orders = lines.map((_, i) => nginxLine(t + i * 1_000, 'POST', '/api/orders', 200, (i % 10) / 10));
  await post('/api/v1/ingest/lb?format=nginx&service=checkout&source=edge', orders.join('\n'), app);
}

/** 250k spans: each a new service, a new method, and a new route (even) or span name (odd). */
async function spanFlood(): Promise<number> {
  const timeUs = (Date.now() - 1_000) * 1000;
  for (let start = 0; start < SPANS; start += PER_REQUEST) {
    const spans: string[] = [];
    for (let i = start; i < start + PER_REQUEST; i++) {
      const id = (i + 1).toString(16).padStart(16, '0');
      const tags: Record<string, string> = { 'http.status_code': '200', 'http.method': `m${letters(i)}` };
      if (i % 2 === 0) tags['http.route'] = `/route/${letters(i)}`;
      spans.push(
        JSON.stringify({
          traceId: id,
          id,
          kind: 'SERVER',
          name: `op-${letters(i)}`,
          timestamp: timeUs,
          duration: 1000,
          localEndpoint: { serviceName: `flood-${letters(i)}` },
          tags,
        }),
      );
    }
    await post('/api/v2/spans', `[${spans.join(',')}]`);
  }
  return SPANS * 3;
}

/**
 * 125k log lines in 25 requests, each request a new source= and (every other one) a new service=, the
 * others flooding user-profile, whose SLOs select one route; each line a new path and a new method.
 */
async function lineFlood(): Promise<number> {
  const t = Date.now() - 1_000;
  const requests = LINES / PER_REQUEST;
  for (let request = 0; request < requests; request++) {
    const lines: string[] = [];
    for (let i = request * PER_REQUEST; i < (request + 1) * PER_REQUEST; i++)
      lines.push(nginxLine(t, `X${letters(i).toUpperCase()}`, `/p/${letters(i)}`, 200, 0.01));
    const service = request % 2 === 0 ? 'user-profile' : `lb-flood-${request}`;
    await post(`/api/v1/ingest/lb?format=nginx&service=${service}&source=flood-${request}`, lines.join('\n'));
  }
  return LINES * 2 + requests + Math.floor(requests / 2);
}

describe('cardinality flood (issue 15)', () => {
  it('1M distinct label values: series within the caps, RSS under the ceiling, evaluation and gate as fast as without it', async () => {
    await sloTraffic(ctx);
    await sloTraffic(twin);
    const before = ctx.sloguard.evaluator.evaluateAll();

    const started = performance.now();
    const values = (await spanFlood()) + (await lineFlood());
    const floodSeconds = (performance.now() - started) / 1000;
    expect(values).toBeGreaterThanOrEqual(1_000_000);

    const series = ctx.sloguard.db.prepare<[], number>('SELECT count(*) FROM series').pluck().get()!;
    const perService = ctx.sloguard.db
      .prepare<[], number>('SELECT max(n) FROM (SELECT count(*) AS n FROM series GROUP BY kind, service)')
      .pluck()
      .get()!;
    const services = ctx.sloguard.db
      .prepare<[], number>("SELECT count(DISTINCT service) FROM series WHERE kind = 'traces'")
      .pluck()
      .get()!;
    const rssBytes = process.memoryUsage().rss;
    const evaluations = await medianMs(evaluate);
    const gate = await medianMs(askGate);
    console.log(
      `flood of ${values} distinct values in ${floodSeconds.toFixed(1)} s: ${series} series (max ${perService} per service, ${services} trace services), RSS ${(rssBytes / 2 ** 20).toFixed(0)} MB; medians of 50 runs, flooded vs unflooded: evaluations ${evaluations.flooded.toFixed(1)} vs ${evaluations.baseline.toFixed(1)} ms, gate answers ${gate.flooded.toFixed(1)} vs ${gate.baseline.toFixed(1)} ms`,
    );

    // At most maxSeries, plus the kind-wide overflow series (loadbalancer: the overflow source; traces: server).
    expect(series).toBeLessThanOrEqual(LIMITS.maxSeries + 2);
    expect(perService).toBeLessThanOrEqual(LIMITS.maxSeriesPerService + 1);
    expect(services).toBeLessThanOrEqual(LIMITS.maxServices + 1);
    for (const cap of CAPS) expect(ctx.sloguard.cardinality.overflowed.get(cap), cap).toBeGreaterThan(0);
    expect(rssBytes).toBeLessThan(RSS_CEILING_BYTES);
    // 2× the median, and 2 ms (40 µs a run) for a timer's jitter on a loaded machine.
    expect(evaluations.flooded).toBeLessThanOrEqual(2 * evaluations.baseline + 2);
    expect(gate.flooded).toBeLessThanOrEqual(2 * gate.baseline + 2);

    // The SLOs' own figures are untouched by the flood (a route-selected SLO reads only its route's series).
    const after = ctx.sloguard.evaluator.evaluateAll();
    const figures = (statuses: typeof before) =>
      statuses.map(({ name, good, valid }) => ({ name, good, valid }));
    expect(figures(after)).toEqual(figures(before));
  }, 180_000);
});
