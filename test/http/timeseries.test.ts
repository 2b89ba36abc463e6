import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exampleDefinitions, nginxLine, testApp } from '../helpers/app.js';
import { openAlert, storeSpans } from '../helpers/dashboardFixtures.js';

const MINUTE = 60_000;

interface Point {
  t: string;
  sli: number | null;
  valid: number;
  budget_remaining: number | null;
  burn_rates: Record<string, number | null>;
  firing: string | null;
  requests_per_second: number;
  bad_per_second: number;
  coverage: number;
}
interface Series {
  step_seconds: number;
  points: Point[];
  alert_episodes: Array<{ severity: string; started_at: string; ended_at: string | null }>;
  deployments: Array<{ version: string; budget_burned_1h: number | null }>;
  latency: { threshold_seconds: number; bins: Array<{ le_seconds: number | null; count: number }> } | null;
  composite: { components: Array<{ name: string; weight: number }> } | null;
  open_alert: { id: string; level: string; notified_level: string; started_at: string } | null;
}

describe('GET /api/v1/slos/:name/timeseries', () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  const definitions = exampleDefinitions('sloguard-ts-defs-', { playStore: true });
  // A multiple of five minutes, so 5m and 1m step ends fall exactly on "now" and the evaluator reads the same minutes.
  const nowMs = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE - 5 * MINUTE;

  beforeAll(async () => {
    ctx = await testApp({ definitionsPath: definitions.path });
    // Four hours of profile traffic, 20 requests a minute; one in four fails between -90m and -60m.
    const lines: string[] = [];
    for (let minute = 240; minute >= 1; minute--) {
      const t = nowMs - minute * MINUTE;
      for (let i = 0; i < 20; i++) {
        const failed = minute <= 90 && minute > 60 && i % 4 === 0;
        lines.push(
          nginxLine(t + i * 1000, 'GET', `/profile/${i}`, failed ? 500 : 200, i % 5 === 0 ? 0.7 : 0.1),
        );
      }
    }
    const ingest = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&service=user-profile',
      payload: lines.join('\n'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(ingest.statusCode).toBe(202);
    const spans = storeSpans(nowMs, 120, (route, minutesAgo) => route === '/search' && minutesAgo < 30);
    const spanPost = await ctx.app.inject({ method: 'POST', url: '/api/v2/spans', payload: spans });
    expect(spanPost.statusCode).toBe(202);
    await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      payload: { service: 'user-profile', version: 'v9', time: new Date(nowMs - 91 * MINUTE).toISOString() },
    });
    ctx.sloguard.pipeline.flush();
  });
  afterAll(async () => {
    await ctx.close();
    definitions.cleanup();
  });

  const get = async (name: string, query: string) => {
    const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/slos/${name}/timeseries?${query}` });
    return { status: response.statusCode, body: response.json() };
  };
  const to = () => new Date(nowMs).toISOString();

  it('ends on the same numbers the evaluator computes for now, for plain, latency and composite SLOs', async () => {
    const statuses = ctx.sloguard.evaluator.evaluateAll(nowMs);
    for (const name of ['profile-availability', 'profile-latency', 'store-browse']) {
      const { status, body } = await get(
        name,
        `from=${new Date(nowMs - 3_600_000).toISOString()}&to=${to()}&step=5m`,
      );
      expect(status).toBe(200);
      const series = body as Series;
      expect(series.points).toHaveLength(12);
      const last = series.points.at(-1)!;
      expect(last.t).toBe(to());
      const evaluated = statuses.find((s) => s.name === name)!;
      expect(last.valid, name).toBeCloseTo(evaluated.valid, 6);
      expect(last.sli, name).toBeCloseTo(evaluated.sli!, 9);
      expect(last.budget_remaining, name).toBeCloseTo(evaluated.budget.remainingRatio!, 9);
      for (const window of ['5m', '1h', '6h', '3d'] as const) {
        expect(last.burn_rates[window] ?? 0, `${name} ${window}`).toBeCloseTo(
          evaluated.burnRates[window] ?? 0,
          9,
        );
      }
      expect(last.firing).toBe(evaluated.firing);
    }
  });

  it('follows the incident: the SLI dips, the budget burns, the page episode and the deployment are placed', async () => {
    const { body } = await get(
      'profile-availability',
      `from=${new Date(nowMs - 4 * 3_600_000).toISOString()}&to=${to()}&step=1m`,
    );
    const series = body as Series;
    expect(series.step_seconds).toBe(60);
    const at = (minutesAgo: number) =>
      series.points.find((p) => Date.parse(p.t) === nowMs - minutesAgo * MINUTE)!;
    expect(at(100).budget_remaining).toBe(1);
    expect(at(100).bad_per_second).toBe(0);
    // In the incident a quarter of 20 requests a minute fail.
    expect(at(70).bad_per_second).toBeCloseTo(5 / 60, 9);
    expect(at(70).requests_per_second).toBeCloseTo(20 / 60, 9);
    expect(at(30).budget_remaining!).toBeLessThan(0);
    expect(at(30).sli!).toBeLessThan(at(100).sli!);
    const page = series.alert_episodes.find((e) => e.severity === 'page');
    expect(page).toBeDefined();
    const started = Date.parse(page!.started_at);
    expect(started).toBeGreaterThanOrEqual(nowMs - 90 * MINUTE);
    expect(started).toBeLessThan(nowMs - 60 * MINUTE);
    expect(series.deployments.map((d) => d.version)).toEqual(['v9']);
    expect(series.deployments[0]!.budget_burned_1h!).toBeGreaterThan(1);
  });

  it('names the alert episode the alerting has open, so the page shows when it went out', async () => {
    expect(((await get('profile-availability', `to=${to()}&step=1h`)).body as Series).open_alert).toBeNull();
    const startedAtMs = nowMs - 85 * MINUTE;
    openAlert(ctx.sloguard.db, 'profile-availability', 'user-profile', 'critical', startedAtMs);
    const series = (await get('profile-availability', `to=${to()}&step=1h`)).body as Series;
    expect(series.open_alert).toEqual({
      id: 'profile-availability-episode',
      level: 'critical',
      notified_level: 'critical',
      started_at: new Date(startedAtMs).toISOString(),
    });
  });

  it('gives the latency histogram of a latency SLI and the components of a composite', async () => {
    const latency = (await get('profile-latency', `to=${to()}&step=1h`)).body as Series;
    expect(latency.latency!.threshold_seconds).toBe(0.5);
    const counted = latency.latency!.bins.reduce((sum, bin) => sum + bin.count, 0);
    expect(counted).toBe(240 * 20);
    const composite = (await get('store-browse', `to=${to()}&step=1h`)).body as Series;
    // Weights come normalised to shares of the whole: 1, 2, 1, 2 → 1/6, 1/3, 1/6, 1/3.
    const components = composite.composite!.components;
    expect(components.map((c) => c.name)).toEqual([
      'home-availability',
      'search-availability',
      'category-availability',
      'app-details-availability',
    ]);
    for (const [i, c] of components.entries()) expect(c.weight).toBeCloseTo([1, 2, 1, 2][i]! / 6, 12);
    expect(composite.latency).toBeNull();
  });

  it('picks a step for the range by itself: a 28-day window at one hour, ending on `to` itself', async () => {
    const end = new Date(nowMs + 90_000).toISOString();
    const { status, body } = await get('profile-availability', `to=${end}`);
    expect(status).toBe(200);
    const series = body as Series;
    expect(series.step_seconds).toBe(3600);
    // 672 whole hours, and the partial one up to `to`.
    expect(series.points).toHaveLength(673);
    expect(Date.parse(series.points[671]!.t) % 3_600_000).toBe(0);
    expect(series.points.at(-1)!.t).toBe(end);
  });

  it('says how much of a step ending in the minute that is not over its counts cover', async () => {
    // "Now" twenty seconds into a minute: the last step counts that minute's first twenty seconds only.
    const clockMs = nowMs + 4 * MINUTE + 20_000;
    const clock = vi.spyOn(Date, 'now').mockReturnValue(clockMs);
    try {
      const from = new Date(clockMs - 10 * MINUTE).toISOString();
      const { status, body } = await get('profile-availability', `from=${from}&step=1m`);
      expect(status).toBe(200);
      const points = (body as Series).points;
      expect(points.at(-1)!.t).toBe(new Date(clockMs).toISOString());
      expect(points.at(-1)!.coverage).toBeCloseTo(20 / 60, 6);
      expect(points.slice(0, -1).map((p) => p.coverage)).toEqual(points.slice(0, -1).map(() => 1));
    } finally {
      clock.mockRestore();
    }
  });

  it('answers bad input with a 4xx naming the field', async () => {
    expect(await get('no-such-slo', '')).toMatchObject({
      status: 404,
      body: { error: 'not_found', field: 'name' },
    });
    expect(await get('profile-availability', 'step=soon')).toMatchObject({
      status: 400,
      body: { field: 'step' },
    });
    expect(await get('profile-availability', 'step=10s')).toMatchObject({
      status: 400,
      body: { field: 'step' },
    });
    expect(await get('profile-availability', 'from=yesterday')).toMatchObject({
      status: 400,
      body: { field: 'from' },
    });
    expect(
      await get('profile-availability', `from=${to()}&to=${new Date(nowMs - MINUTE).toISOString()}`),
    ).toMatchObject({
      status: 400,
      body: { field: 'from' },
    });
    // A month at one-minute steps is too many points. (This used from=0, now before the hour retention.)
    const monthAgo = Math.floor((nowMs - 30 * 1440 * MINUTE) / 1000);
    expect(await get('profile-availability', `from=${monthAgo}&step=1m`)).toMatchObject({
      status: 400,
      body: { field: 'step' },
    });
    expect(await get('profile-availability', 'from=0&step=1m')).toMatchObject({
      status: 400,
      body: { field: 'from' },
    });
  });
});
