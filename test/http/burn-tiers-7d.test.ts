import { afterEach, describe, expect, it } from 'vitest';
import { alertLevel } from '../../src/alert/state.js';
import { burnRateTiers, detectionMs } from '../../src/evaluate/math.js';
import { BatchAggregate, emptyDelta } from '../../src/ingest/aggregate.js';
import { gateApp } from '../helpers/gateFixtures.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * A 7-day 99.9% SLO of service `web`. The policy warns below 10% of the budget left: a steady 0.8× burn keeps
 * 20% of it (the default 25% line would warn, rightly, about the budget, which is not what this test is about).
 */
const WEEKLY = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: web-weekly, service: web }
spec:
  indicator: { source: loadbalancer }
  objective: 99.9
  window: 7d
---
apiVersion: sloguard/v1
kind: GatePolicy
metadata: { name: web-gate }
spec:
  service: web
  warnBelow: 10
`;

/** 1,250 requests a minute: 1 bad is a 0.8× burn of a 0.1% budget, 25 bad a 20× burn. */
const PER_MINUTE = 1250;

let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

/** Writes minute buckets of `web` from `fromMs` (inclusive) to `toMs` (exclusive) with `bad` errors each. */
function minutes(app: NonNullable<typeof ctx>, fromMs: number, toMs: number, bad: number) {
  const batch = new BatchAggregate();
  const series = batch.seriesFor('loadbalancer', 'edge', 'web', '/home', 'GET');
  for (let t = fromMs; t < toMs; t += MINUTE) {
    batch.addBucket(series, t, { ...emptyDelta(), total: PER_MINUTE, errors: bad });
  }
  app.sloguard.buckets.commit(batch);
}

const feature = { service: 'web', environment: 'production', changeType: 'feature' as const };

describe('a 7-day SLO', () => {
  // Whole minutes, the burn ending a minute ago: every evaluation below is in the past, as the store expects.
  const burnEndMs = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
  const burnStartMs = burnEndMs - 15 * MINUTE;
  const historyStartMs = burnStartMs - 3 * DAY;

  it('burning 0.8× for three days: no tier fires, no alert, the gate allows', async () => {
    ctx = await gateApp({}, WEEKLY);
    minutes(ctx, historyStartMs, burnStartMs, 1);
    let checked = 0;
    for (let at = historyStartMs + 2 * 3_600_000; at <= burnStartMs; at += 2 * 3_600_000) {
      const [status] = ctx.sloguard.evaluator.evaluateAll(at);
      expect(status!.burnRates['1h']).toBeCloseTo(0.8, 9);
      expect(status!.alerts.every((tier) => tier.state === 'ok')).toBe(true);
      expect(alertLevel(status!)).toBe('ok');
      expect(ctx.sloguard.gate.decide(feature, at).decision).toBe('allow');
      checked += 1;
    }
    expect(checked).toBe(36);
  });

  it('burning 20× for 15 minutes after that: the page fires within the documented detection time', async () => {
    ctx = await gateApp({}, WEEKLY);
    minutes(ctx, historyStartMs, burnStartMs, 1);
    minutes(ctx, burnStartMs, burnEndMs, 25);
    const page = burnRateTiers(7 * DAY)[0]!;
    expect([page.longWindow, page.shortWindow, page.factor]).toEqual(['15m', '1m', 14]);
    // docs/alerts.md: factor ÷ rate of the long window, 10.5 minutes at 20×; whole minutes of buckets.
    const documentedMs = detectionMs(page, 20)!;
    let firedAtMs: number | undefined;
    for (let at = burnStartMs + MINUTE; at <= burnEndMs && firedAtMs === undefined; at += MINUTE) {
      const [status] = ctx.sloguard.evaluator.evaluateAll(at);
      if (status!.firing === 'page') {
        firedAtMs = at;
        expect(alertLevel(status!)).toBe('critical');
        const decision = ctx.sloguard.gate.decide(feature, at);
        expect(decision.decision).toBe('deny');
        expect(decision.reason).toContain('page-tier alert firing (burn rate');
        expect(decision.reason).toContain('over 15m and 20.0 over 1m, threshold 14.0)');
      }
    }
    expect(firedAtMs).toBeDefined();
    const detectedMs = firedAtMs! - burnStartMs;
    // Not before the long window's rate can pass 14× (the 0.8× before the burn shortens it a little) ...
    expect(detectedMs).toBeGreaterThanOrEqual(10 * MINUTE);
    // ... and no later than the documented time rounded up to the next evaluated minute.
    expect(detectedMs).toBeLessThanOrEqual(Math.ceil(documentedMs / MINUTE) * MINUTE);
  });
});
