import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Static } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus } from '../../src/cli/status.js';
import { loadDefinitionSet } from '../../src/definitionSet.js';
import type { SloBreakdown } from '../../src/http/schemas/breakdown.js';
import { breakdownView } from '../../src/http/views.js';
import { exampleDefinitions, testApp } from '../helpers/app.js';
import { checkoutLines, storeSpans } from '../helpers/dashboardFixtures.js';
import { engineSlo } from '../helpers/heldEngine.js';

const MINUTE = 60_000;

type Breakdown = Static<(typeof SloBreakdown)[200]>;

const LOGS =
  'https://kibana.example.com/app/discover#/?from={from}&to={to}&q=service:{service} and path:{route}';

describe('GET /api/v1/slos/:name/breakdown', () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  const definitions = exampleDefinitions('sloguard-breakdown-defs-', {
    playStore: true,
    files: { 'engine.yaml': engineSlo('http://127.0.0.1:9') },
  });
  const nowMs = Math.floor(Date.now() / MINUTE) * MINUTE;
  const from = new Date(nowMs - 30 * MINUTE).toISOString();
  const to = new Date(nowMs).toISOString();

  beforeAll(async () => {
    ctx = await testApp(
      {
        definitionsPath: definitions.path,
        links: { zipkin: '/zipkin/', services: { checkout: { logs: LOGS } } },
      },
      {},
      { evaluate: false },
    );
    const ingest = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&service=checkout',
      payload: checkoutLines(nowMs).join('\n'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(ingest.json()).toMatchObject({ accepted: 2000, rejected: 0 });
    // Store spans: 20 minutes of one span per route a minute; /search fails 4 times, /apps/:id once.
    const spans = storeSpans(
      nowMs,
      20,
      (route, minutesAgo) =>
        (route === '/search' && minutesAgo <= 4) || (route === '/apps/:id' && minutesAgo === 7),
    );
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v2/spans', payload: spans })).statusCode).toBe(
      202,
    );
    ctx.sloguard.pipeline.flush();
  });
  afterAll(async () => {
    await ctx.close();
    definitions.cleanup();
  });

  const get = async (name: string, query = `from=${from}&to=${to}`) => {
    const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/slos/${name}/breakdown?${query}` });
    return { status: response.statusCode, body: response.json() };
  };

  it('ranks the series that spent the budget by bad events, with shares equal to the counts', async () => {
    const { status, body } = await get('checkout-availability', `from=${from}&to=${to}&steps=30`);
    expect(status).toBe(200);
    const [group] = (body as Breakdown).groups;
    expect(group).toMatchObject({ component: null, objective: 0.999, valid: 2000, bad: 50, series_count: 3 });
    // 99.9% of 2,000 requests allows 2 bad ones: 50 spent 25 times the range's budget.
    expect(group!.allowed_bad).toBe(2);
    expect(group!.budget_spent).toBe(25);
    expect(
      group!.series.map((s) => [s.method, s.route, s.valid, s.bad, s.bad_share, s.budget_share]),
    ).toEqual([
      ['GET', '/api/cart', 1000, 30, 0.6, 15],
      ['POST', '/api/orders', 500, 20, 0.4, 10],
      ['GET', '/api/orders/:id', 500, 0, 0, 0],
    ]);
    expect(group!.series[0]).toMatchObject({ kind: 'loadbalancer', sli: 0.97, error_bound: 0 });
  });

  it('draws each series its own SLI per step, bad where its bad minute falls', async () => {
    const { body } = await get('checkout-availability', `from=${from}&to=${to}&steps=30`);
    const { step_seconds, groups } = body as Breakdown;
    expect(step_seconds).toBe(60);
    const cart = groups[0]!.series[0]!.sparkline;
    expect(cart).toHaveLength(30);
    // Steps 0-9 are before the traffic; minute 10 before now is step 20, where 30 of 50 failed.
    expect(cart.slice(0, 10)).toEqual(Array(10).fill(null));
    expect(cart[20]).toBe(20 / 50);
    expect(cart.filter((sli) => sli !== null && sli < 1)).toEqual([0.4]);
  });

  it('ranks by SLI when asked, and lists at most `limit` series', async () => {
    const { body } = await get('checkout-availability', `from=${from}&to=${to}&sort=sli&limit=2`);
    const { groups, sort } = body as Breakdown;
    expect(sort).toBe('sli');
    // The orders fail fewer requests than the cart (20 < 30) but a larger share of theirs (4% > 3%).
    expect(groups[0]!.series.map((s) => [s.route, s.sli])).toEqual([
      ['/api/orders', 0.96],
      ['/api/cart', 0.97],
    ]);
    expect(groups[0]!.series_count).toBe(3);
  });

  it('counts latency SLOs from the exact threshold counts, with the error bound', async () => {
    const { status, body } = await get('checkout-submit-latency');
    expect(status).toBe(200);
    const [group] = (body as Breakdown).groups;
    // 99% of 500 allows 5 slow requests; the 20 over 800 ms spent four times that.
    expect(group).toMatchObject({ valid: 500, bad: 20, allowed_bad: 5, budget_spent: 4, series_count: 1 });
    expect(group!.series[0]).toMatchObject({
      route: '/api/orders',
      bad: 20,
      error_bound: 0,
      budget_share: 4,
    });
  });

  it('breaks a composite down per component, each by its own objective', async () => {
    const { status, body } = await get('store-browse');
    expect(status).toBe(200);
    const groups = (body as Breakdown).groups;
    // Weights as the composite's burn uses them: 1, 2, 1, 2 normalised to sum to one.
    expect(
      groups.map((g) => [
        g.component?.name,
        Math.round((g.component?.weight ?? 0) * 6 * 1e6) / 1e6,
        g.valid,
        g.bad,
      ]),
    ).toEqual([
      ['home-availability', 1, 20, 0],
      ['search-availability', 2, 20, 4],
      ['category-availability', 1, 20, 0],
      ['app-details-availability', 2, 20, 1],
    ]);
    expect(groups[1]!.series).toEqual([
      expect.objectContaining({ kind: 'traces', source: 'server', route: '/search', method: 'GET', bad: 4 }),
    ]);
    expect(groups[1]!.series[0]!.budget_share).toBeCloseTo(4 / (0.001 * 20), 9);
  });

  it('answers 4xx naming the field for what it cannot break down or read', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['nope', '', 404, 'name'],
      ['engine-availability', '', 422, 'name'],
      ['checkout-availability', `from=${to}&to=${from}`, 400, 'from'],
      ['checkout-availability', `from=${new Date(nowMs - 100 * 86_400_000).toISOString()}`, 400, 'from'],
      ['checkout-availability', 'from=yesterday', 400, 'from'],
      ['checkout-availability', 'limit=0', 400, 'querystring.limit'],
      ['checkout-availability', 'steps=1000', 400, 'querystring.steps'],
      ['checkout-availability', 'sort=worst', 400, 'querystring.sort'],
    ];
    for (const [name, query, status, field] of cases) {
      const answer = await get(name, query);
      expect({ name, query, status: answer.status, field: answer.body.field }).toEqual({
        name,
        query,
        status,
        field,
      });
      expect(answer.body.error).toEqual(expect.any(String));
      expect(answer.body.message).toEqual(expect.any(String));
    }
    // The SLO's own answer says so beforehand, so the dashboard asks only where it can (the engine SLO has no
    // status here, its engine being unreachable, so its view is read directly).
    ctx.sloguard.evaluator.evaluateAll();
    const checkout = await ctx.app.inject({ method: 'GET', url: '/api/v1/slos/checkout-availability' });
    expect(checkout.json()).toMatchObject({ breakdown_available: true });
    const engine = ctx.sloguard.definitions.registry.byName.get('engine-availability');
    expect(breakdownView(engine)).toEqual({ breakdown_available: false });
  });

  it('prints through `sloguard status --breakdown` as a table and as the JSON of the API', async () => {
    const url = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const run = async (format: 'table' | 'json', extra: { limit?: string } = {}) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runStatus(
        { url, format, timeoutMs: 10_000, breakdown: 'checkout-availability', from, to, ...extra },
        { out: (line) => out.push(line), err: (line) => err.push(line) },
      );
      return { code, out, err };
    };
    const table = await run('table');
    expect(table.code).toBe(0);
    expect(table.out[2]).toBe('50 bad of 2000 valid, budget spent 2500.0%, 3 series');
    expect(table.out[3]).toMatch(/^ROUTE +METHOD +SOURCE +VALID +BAD +SLI +BAD SHARE +BUDGET SHARE +TREND$/);
    expect(table.out[4]).toMatch(
      /^\/api\/cart +GET +nginx +1000 +30 +97\.000% +60\.0% +1500\.0% +[·▁]+█[·▁]+$/,
    );
    expect(table.out[5]).toMatch(/^\/api\/orders +POST +nginx +500 +20 +96\.000% +40\.0% +1000\.0% /);
    const json = await run('json');
    expect(JSON.parse(json.out.join('\n'))).toEqual(
      (await get('checkout-availability', `from=${from}&to=${to}`)).body,
    );
    const refused = await run('table', { limit: '0' });
    expect(refused.code).toBe(1);
    expect(refused.err.join('\n')).toContain('querystring.limit');
  });

  it('links a minute of 5xx of a trace SLO to the Zipkin search of that service, span, minute and status tag', async () => {
    // /search failed in the 4 minutes before now; the minute from 2 to 1 minutes ago is one of them.
    const fromMs = nowMs - 2 * MINUTE;
    const toMs = nowMs - MINUTE;
    const range = `from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}`;
    const { body } = await get('search-availability', range);
    const [group] = (body as Breakdown).groups;
    expect(group).toMatchObject({ valid: 1, bad: 1 });
    const link = new URL(group!.series[0]!.links.traces!, 'http://127.0.0.1');
    expect(link.pathname).toBe('/zipkin/');
    expect(Object.fromEntries(link.searchParams)).toEqual({
      serviceName: 'play-store',
      spanName: 'get /search',
      annotationQuery: 'http.status_code and error',
      lookback: 'range',
      startTs: String(fromMs),
      endTs: String(toMs),
      limit: '100',
    });
    // The SLO's own link (its selector names the route but no method) leaves the span name out.
    const own = new URL(group!.links.traces!, 'http://127.0.0.1');
    expect(own.searchParams.get('spanName')).toBeNull();
    expect(own.searchParams.get('startTs')).toBe(String(fromMs));
    expect(group!.links.logs).toBeNull();
  });

  it("fills the service's log template for each row, and gives load-balancer SLOs no default trace link", async () => {
    const { body } = await get('checkout-availability');
    const { groups, from: fromText, to: toText } = body as Breakdown;
    const [group] = groups;
    expect(group!.series[0]!.links).toEqual({
      traces: null,
      logs: `https://kibana.example.com/app/discover#/?from=${encodeURIComponent(fromText!)}&to=${encodeURIComponent(toText!)}&q=service:checkout and path:%2Fapi%2Fcart`,
    });
    // The SLO selects every route: its own link leaves the route empty.
    expect(group!.links.logs).toMatch(/service:checkout and path:$/);
  });

  it('bounds a latency SLO declared after its data by the same histogram error bound its SLI reports', async () => {
    // The cart's requests all took 50 ms; a threshold of 51 ms declared now cuts through their histogram bin.
    writeFileSync(
      join(definitions.path, 'cart-latency.yaml'),
      `apiVersion: sloguard/v1
kind: SLO
metadata: { name: cart-latency, service: checkout }
spec:
  indicator: { source: loadbalancer, select: { route: /api/cart }, good: { latency: "<= 51ms" } }
  objective: 99
  window: 28d
`,
    );
    await ctx.sloguard.replace(loadDefinitionSet(definitions.path), ctx.sloguard.config);
    ctx.sloguard.evaluator.evaluateAll();
    const status = (await ctx.app.inject({ method: 'GET', url: '/api/v1/slos/cart-latency' })).json();
    const [group] = ((await get('cart-latency', '')).body as Breakdown).groups;
    expect(group!.valid).toBe(1000);
    expect(group!.error_bound).toBeGreaterThan(0);
    // The estimate the evaluator makes, to the 12 significant digits answers keep.
    expect(group!.valid).toBe(status.valid);
    expect(group!.bad).toBeCloseTo(status.valid - status.good, 9);
    expect(group!.error_bound / group!.valid).toBeCloseTo(status.sli_error_bound, 12);
    expect(group!.series[0]!.error_bound).toBe(group!.error_bound);
  });
});
