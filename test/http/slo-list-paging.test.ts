import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAndEvaluate, nginxLine, testApp } from '../helpers/app.js';

interface ListAnswer {
  slos: { name: string; service: string; state: string; budget: { remaining_ratio: number | null } }[];
  total: number;
  states: Record<string, number>;
  services: string[];
}

let ctx: Awaited<ReturnType<typeof testApp>>;
const list = async (query = '') => {
  const response = await ctx.app.inject(`/api/v1/slos${query}`);
  return { status: response.statusCode, body: response.json() };
};

beforeAll(async () => {
  ctx = await testApp();
  const t = Date.now() - 60_000;
  // Enough traffic with failures for judged, burning SLOs in two services; the rest stay without data.
  const lines = Array.from({ length: 3000 }, (_, i) =>
    nginxLine(t - (i % 600) * 1000, 'POST', '/api/checkout', i % 50 === 0 ? 503 : 200, 0.05),
  );
  // user-profile fails more often, so its budget is the lower one: sorted, it comes before checkout.
  const profile = Array.from({ length: 3000 }, (_, i) =>
    nginxLine(t - (i % 600) * 1000, 'GET', `/profile/${i}`, i % 20 === 0 ? 503 : 200, 0.05),
  );
  await ingestAndEvaluate(ctx, { checkout: lines, 'user-profile': profile });
});
afterAll(async () => {
  await ctx.close();
});

describe('GET /api/v1/slos paging, filters and sort', () => {
  it('answers every SLO in definition order without parameters, as before, with the totals', async () => {
    const { status, body } = await list();
    expect(status).toBe(200);
    const all = body as ListAnswer;
    const expected = ctx.sloguard.evaluator.current().map((s) => s.name);
    expect(expected.length).toBeGreaterThan(3);
    expect(all.slos.map((s) => s.name)).toEqual(expected);
    expect(all.total).toBe(expected.length);
    expect(Object.values(all.states).reduce((a, b) => a + b, 0)).toBe(expected.length);
    expect(all.services).toEqual([...new Set(all.slos.map((s) => s.service))].sort());
  });

  it('pages with limit and offset, sorted, without overlap or gaps', async () => {
    const all = (await list('?sort=name')).body as ListAnswer;
    const names = all.slos.map((s) => s.name);
    expect(names).toEqual([...names].sort());
    const pages: string[] = [];
    for (let offset = 0; offset < all.total; offset += 2) {
      const page = (await list(`?sort=name&limit=2&offset=${offset}`)).body as ListAnswer;
      expect(page.total).toBe(all.total);
      expect(page.slos.length).toBeLessThanOrEqual(2);
      pages.push(...page.slos.map((s) => s.name));
    }
    expect(pages).toEqual(names);
    const desc = (await list('?sort=name&order=desc&limit=1')).body as ListAnswer;
    expect(desc.slos.map((s) => s.name)).toEqual([names.at(-1)]);
  });

  it('filters by service, state and name substring, counting what matched', async () => {
    const checkout = (await list('?service=checkout')).body as ListAnswer;
    expect(checkout.total).toBeGreaterThan(0);
    expect(new Set(checkout.slos.map((s) => s.service))).toEqual(new Set(['checkout']));
    const noData = (await list('?state=no-data&limit=1000')).body as ListAnswer;
    expect(noData.total).toBe(noData.states['no-data']);
    expect(noData.slos.every((s) => s.state === 'no-data')).toBe(true);
    const q = (await list('?q=AVAILABILITY')).body as ListAnswer;
    expect(q.total).toBeGreaterThan(0);
    expect(q.slos.every((s) => s.name.includes('availability'))).toBe(true);
    const none = (await list('?service=nope')).body as ListAnswer;
    expect(none).toMatchObject({ slos: [], total: 0 });
    expect(none.states).toEqual(checkout.states);
  });

  it('sorts by budget remaining either way, SLOs without data last', async () => {
    const { slos } = (await list('?sort=budget')).body as ListAnswer;
    const ratios = slos.map((s) => s.budget.remaining_ratio);
    const known = ratios.filter((r): r is number => r !== null);
    expect(new Set(known).size).toBeGreaterThan(1);
    expect(ratios.slice(0, known.length)).toEqual([...known].sort((a, b) => a - b));
    const desc = ((await list('?sort=budget&order=desc')).body as ListAnswer).slos;
    const descRatios = desc.map((s) => s.budget.remaining_ratio);
    expect(descRatios.slice(0, known.length)).toEqual([...known].sort((a, b) => b - a));
    expect(descRatios.slice(known.length).every((r) => r === null)).toBe(true);
  });

  it.each([
    ['limit=0', 'querystring.limit'],
    ['limit=1001', 'querystring.limit'],
    ['limit=ten', 'querystring.limit'],
    ['offset=-1', 'querystring.offset'],
    ['offset=1000001', 'querystring.offset'],
    ['sort=colour', 'querystring.sort'],
    ['order=up', 'querystring.order'],
    ['state=burning', 'querystring.state'],
    ['service=', 'querystring.service'],
    [`q=${'x'.repeat(201)}`, 'querystring.q'],
  ])('refuses %s with a 400 naming %s', async (query, field) => {
    const { status, body } = await list(`?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_request', field });
    expect(body.message).toContain(field);
  });
});
