import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_DAYS, historyChunks, RELEASES } from '../../src/demo/history.js';
import { exampleDefinitions, testApp } from '../helpers/app.js';

const DAY = 86_400_000;

interface Point {
  t: string;
  sli: number | null;
  valid: number;
  budget_remaining: number | null;
  bad_per_second: number;
}

/** The demo's month of history, sent through the public ingest routes of an in-process app as the demo sends it. */
describe("the demo's 28 days of history", () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  const definitions = exampleDefinitions('sloguard-demo-history-', { playStore: true });
  const nowMs = Date.now();
  let events = 0;
  let chunks = 0;
  let largestChunk = 0;
  let seconds = 0;

  beforeAll(async () => {
    ctx = await testApp({ definitionsPath: definitions.path }, {}, { evaluate: false });
    const started = process.hrtime.bigint();
    for (const chunk of historyChunks(nowMs)) {
      chunks++;
      let size = chunk.spans.length;
      for (const [service, lines] of chunk.lines) {
        const answer = await ctx.app.inject({
          method: 'POST',
          url: `/api/v1/ingest/lb?format=nginx&service=${service}`,
          payload: lines.join('\n'),
          headers: { 'content-type': 'text/plain' },
        });
        expect(answer.json()).toMatchObject({ accepted: lines.length, rejected: 0 });
        size += lines.length;
      }
      const spans = await ctx.app.inject({ method: 'POST', url: '/api/v2/spans', payload: chunk.spans });
      expect(spans.statusCode).toBe(202);
      events += size;
      largestChunk = Math.max(largestChunk, size);
    }
    ctx.sloguard.pipeline.flush();
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
    ctx.sloguard.evaluator.evaluateAll();
  }, 300_000);
  afterAll(async () => {
    await ctx.close();
    definitions.cleanup();
  });

  const points = async (name: string, step = '1h') => {
    const from = new Date(nowMs - HISTORY_DAYS * DAY).toISOString();
    const answer = await ctx.app.inject({
      method: 'GET',
      url: `/api/v1/slos/${name}/timeseries?from=${from}&to=${new Date(nowMs).toISOString()}&step=${step}`,
    });
    return answer.json().points as Point[];
  };
  const daysAgo = (point: Point) => (nowMs - Date.parse(point.t)) / DAY;

  it('arrives in bounded chunks through the ingest routes and fills every hour of the month', async () => {
    console.log(`demo history: ${events} events in ${chunks} chunks, ${seconds.toFixed(1)} s in-process`);
    expect(chunks).toBeGreaterThanOrEqual(HISTORY_DAYS * 4);
    expect(largestChunk).toBeLessThanOrEqual(6 * 240 * 3);
    const profile = await points('profile-availability');
    // Every hourly step of the month after the first holds traffic (the first may fall before the first event).
    expect(profile.slice(1).every((p) => p.valid > 0)).toBe(true);
    expect(daysAgo(profile[0]!)).toBeGreaterThan(HISTORY_DAYS - 0.1);
  });

  it('tells the month: the slow burn and the incident of checkout, the search outage', async () => {
    const badBetween = (series: Point[], fromDays: number, toDays: number) =>
      series
        .filter((p) => daysAgo(p) <= fromDays && daysAgo(p) > toDays)
        .reduce((sum, p) => sum + p.bad_per_second, 0);
    const checkout = await points('checkout-availability');
    // The leaky dependency of days 12 to 7 before now: several times the errors of the days before it.
    expect(badBetween(checkout, 11.9, 7.1)).toBeGreaterThan(3 * badBetween(checkout, 17, 12.2));
    const worst = checkout.reduce((a, b) => (b.bad_per_second > a.bad_per_second ? b : a));
    expect(daysAgo(worst)).toBeGreaterThan(17.4);
    expect(daysAgo(worst)).toBeLessThan(17.7);
    // The hour of search timeouts 25.5 days ago: bad events there, more than in any day of the month after it.
    const search = await points('search-availability');
    const outage = badBetween(search, 25.55, 25.4);
    expect(outage).toBeGreaterThan(0);
    for (let day = 25; day > 1; day--) expect(badBetween(search, day, day - 1)).toBeLessThan(outage);
    // Checkout's budget burns down over the month, yet leaves the gate open (above its 25% warning) for the
    // release that starts the live story.
    const budget = checkout.at(-1)!.budget_remaining!;
    expect(budget).toBeGreaterThan(0.25);
    expect(budget).toBeLessThan(0.9);
  });

  it("breaks the month down: checkout's slow burn and incident, play-store's components", async () => {
    const started = process.hrtime.bigint();
    const answer = await ctx.app.inject({
      method: 'GET',
      url: '/api/v1/slos/checkout-availability/breakdown',
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`demo history: 28-day breakdown of checkout-availability in ${ms.toFixed(0)} ms`);
    expect(answer.statusCode).toBe(200);
    const [group] = answer.json().groups as Array<{ valid: number; bad: number; series_count: number }>;
    expect(group!.series_count).toBe(3);
    expect(group!.bad).toBeGreaterThan(0);
    const browse = await ctx.app.inject({ method: 'GET', url: '/api/v1/slos/store-browse/breakdown' });
    expect(browse.json().groups).toHaveLength(4);
  });

  it('marks the releases of the month on the charts', async () => {
    const answer = await ctx.app.inject({ method: 'GET', url: '/api/v1/deployments?service=checkout' });
    expect(answer.statusCode).toBe(200);
    // The deployments are posted by the demo itself after the history; here the list to post is checked.
    expect(RELEASES.filter((r) => r.service === 'checkout').map((r) => r.version)).toContain('v2.6.0');
  });
});
