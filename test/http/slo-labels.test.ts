import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelledApp } from '../helpers/labelFixtures.js';

interface Item {
  name: string;
  display_name: string | null;
  description: string | null;
  labels: Record<string, string>;
  owner: string | null;
  runbook: string | null;
}
interface ListAnswer {
  slos: Item[];
  total: number;
  firing: { page: number; ticket: number };
  label_values: Record<string, string[]>;
  groups?: { value: string | null; count: number }[];
}

let ctx: Awaited<ReturnType<typeof labelledApp>>;
const get = async (url: string) => {
  const response = await ctx.app.inject(url);
  return { status: response.statusCode, body: response.json() };
};
const names = (answer: ListAnswer) => answer.slos.map((s) => s.name);

beforeAll(async () => {
  ctx = await labelledApp();
});
afterAll(async () => {
  await ctx.close();
});

describe('labels, display names and owners in the SLO API', () => {
  it('lists each SLO with its display name, description, labels, runbook and owner', async () => {
    const { status, body } = await get('/api/v1/slos');
    expect(status).toBe(200);
    const games = (body as ListAnswer).slos.find((s) => s.name === 'games-availability');
    expect(games).toMatchObject({
      display_name: 'Games load without server errors',
      description: 'Every game page answers without a 5xx.',
      labels: { team: 'games', tier: '1' },
      runbook: 'https://runbooks.example.com/games',
      owner: 'team-games',
    });
    const search = (body as ListAnswer).slos.find((s) => s.name === 'search-availability');
    expect(search).toMatchObject({
      display_name: null,
      description: null,
      labels: { team: 'search:core' },
      runbook: null,
      owner: null,
    });
    const one = await get('/api/v1/slos/games-availability');
    expect(one.body).toMatchObject({
      display_name: 'Games load without server errors',
      labels: { tier: '1' },
    });
    expect(one.body.components).toBeNull();
  });

  it('filters by one or more labels, all of which must match, and a value may hold colons', async () => {
    expect(names((await get('/api/v1/slos?label=team:games')).body)).toEqual([
      'games-availability',
      'games-latency',
    ]);
    const both = (await get('/api/v1/slos?label=team:payments&label=tier:1')).body as ListAnswer;
    expect(names(both)).toEqual(['cart-availability']);
    expect(both.total).toBe(1);
    expect(names((await get('/api/v1/slos?label=team:search:core')).body)).toEqual(['search-availability']);
    const none = (await get('/api/v1/slos?label=team:nobody&limit=5')).body as ListAnswer;
    expect(none).toMatchObject({ slos: [], total: 0 });
    // The summary is over every SLO, whatever the filter: the overview's label choices stay complete.
    expect(none.label_values).toEqual({
      team: ['games', 'payments', 'search:core'],
      tier: ['1', '2'],
    });
  });

  it('groups by a label key: sections in value order, SLOs without the label last, with counts', async () => {
    const answer = (await get('/api/v1/slos?group=tier&sort=name')).body as ListAnswer;
    expect(names(answer)).toEqual([
      'cart-availability',
      'games-availability',
      'games-latency',
      'news-availability',
      'search-availability',
      'shop-browse',
    ]);
    expect(answer.groups).toEqual([
      { value: '1', count: 2 },
      { value: '2', count: 1 },
      { value: null, count: 3 },
    ]);
    // Counts are over every matching SLO, not only the page.
    const paged = (await get('/api/v1/slos?group=team&label=tier:1&limit=1')).body as ListAnswer;
    expect(names(paged)).toEqual(['games-availability']);
    expect(paged.groups).toEqual([
      { value: 'games', count: 1 },
      { value: 'payments', count: 1 },
    ]);
    expect((await get('/api/v1/slos')).body.groups).toBeUndefined();
    // A key naming an object property is a label no SLO has, not a crash or a function in the answer.
    const proto = await get('/api/v1/slos?group=constructor&label=__proto__:x');
    expect(proto.status).toBe(200);
    expect(proto.body).toMatchObject({ slos: [], total: 0, groups: [] });
    expect((await get('/api/v1/slos?group=toString')).body.groups).toEqual([{ value: null, count: 6 }]);
  });

  it('counts the SLOs paging beside the states', async () => {
    const { body } = await get('/api/v1/slos?limit=1');
    // games-availability burns 500× (page); cart-availability 2× (the 3-day ticket tier).
    expect(body.firing).toEqual({ page: 1, ticket: 1 });
    const paging = (await get('/api/v1/slos?sort=alert&limit=1')).body as ListAnswer;
    expect(names(paging)).toEqual(['games-availability']);
  });

  it("lists a composite's components with their own SLI, budget, weight and state", async () => {
    const { status, body } = await get('/api/v1/slos/shop-browse');
    expect(status).toBe(200);
    const cart = (await get('/api/v1/slos/cart-availability')).body;
    expect(body.components).toEqual([
      {
        name: 'cart-availability',
        display_name: 'Cart answers',
        weight: 0.25,
        objective: 0.99,
        sli: cart.sli,
        budget_remaining: cart.budget.remaining_ratio,
        state: 'exhausted',
      },
      {
        name: 'search-availability',
        display_name: null,
        weight: 0.75,
        objective: 0.99,
        sli: 1,
        budget_remaining: 1,
        state: 'ok',
      },
    ]);
    expect(cart.budget.remaining_ratio).toBeLessThan(0);
  });

  it('freezes the gate of a service whose budget is spent at the evaluation, before anyone asks the gate', async () => {
    // No GatePolicy names an environment for these services and no test asked the gate.
    const { body } = await get('/api/v1/gate/freezes');
    expect(body.freezes).toEqual([
      { service: 'games', environment: null, frozen: true, changed_at: expect.any(String) },
      { service: 'shop', environment: null, frozen: true, changed_at: expect.any(String) },
    ]);
    // A healthy service is not remembered at all: the freeze list stays as small as before.
    expect(body.freezes.some((f: { service: string }) => f.service === 'news')).toBe(false);
  });

  it.each([
    ['label=team', 'querystring.label.0'],
    ['label=:games', 'querystring.label.0'],
    [`label=tier:1&label=team:${'x'.repeat(400)}`, 'querystring.label.1'],
    [Array.from({ length: 11 }, (_, i) => `label=k${i}:v`).join('&'), 'querystring.label'],
    ['group=', 'querystring.group'],
    [`group=${'g'.repeat(201)}`, 'querystring.group'],
  ])('refuses %s with a 400 naming %s', async (query, field) => {
    const { status, body } = await get(`/api/v1/slos?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_request', field });
    expect(body.message).toContain(field);
  });
});
