import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gateApp } from '../helpers/gateFixtures.js';

let ctx: Awaited<ReturnType<typeof gateApp>>;
beforeEach(async () => {
  ctx = await gateApp();
});
afterEach(async () => {
  await ctx.close();
});

const HOUR = 3_600_000;

describe('deployments', () => {
  it('records a marker and reports the budget burned in the hour and the day after it', async () => {
    const deployedAt = Math.floor((Date.now() - 3 * HOUR) / 60_000) * 60_000;
    await ctx.traffic(5000, 0, deployedAt - 10 * 60_000);
    const posted = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      payload: {
        service: 'web',
        environment: 'production',
        version: 'v42',
        time: new Date(deployedAt).toISOString(),
      },
    });
    expect(posted.statusCode).toBe(201);
    // 3 bad requests in the hour after the release, 2 more later that day.
    await ctx.traffic(997, 3, deployedAt + 55 * 60_000);
    const statuses = await ctx.traffic(998, 2, deployedAt + 2 * HOUR);
    const allowed = statuses.find((s) => s.name === 'web-availability')!.budget.allowed;
    expect(allowed).toBeCloseTo(0.001 * 7000, 9);

    const listed = await ctx.app.inject('/api/v1/deployments?service=web');
    expect(listed.statusCode).toBe(200);
    const [deployment] = listed.json().deployments;
    expect(deployment).toMatchObject({
      service: 'web',
      environment: 'production',
      version: 'v42',
      deployed_at: new Date(deployedAt).toISOString(),
      source: 'api',
      decision_id: null,
    });
    const [impact] = deployment.impact;
    expect(impact.slo).toBe('web-availability');
    expect(impact.hour_after).toMatchObject({ valid: 1000, bad: 3, complete: true });
    expect(impact.hour_after.budget_burned).toBeCloseTo(3 / allowed, 9);
    expect(impact.day_after).toMatchObject({ valid: 2000, bad: 5, complete: false });
    expect(impact.day_after.budget_burned).toBeCloseTo(5 / allowed, 9);
  });

  it('charges a release only for burn that began after it: a rollback is not charged with the burn it ends', async () => {
    const badRelease = Math.floor((Date.now() - 3 * HOUR) / 60_000) * 60_000;
    const rollback = badRelease + 10 * 60_000;
    const deploy = (version: string, atMs: number) =>
      ctx.app.inject({
        method: 'POST',
        url: '/api/v1/deployments',
        payload: { service: 'web', environment: 'production', version, time: new Date(atMs).toISOString() },
      });
    await ctx.traffic(5000, 0, badRelease - 10 * 60_000); // calm before
    expect((await deploy('v2', badRelease)).statusCode).toBe(201);
    await ctx.traffic(900, 100, badRelease + 9 * 60_000); // v2 fails 10% of requests
    expect((await deploy('v1', rollback)).statusCode).toBe(201);
    await ctx.traffic(990, 10, rollback + 10 * 60_000); // the rollback brings it down to 1%
    const listed = (await ctx.app.inject('/api/v1/deployments?service=web')).json().deployments;
    const hourAfter = (version: string) =>
      listed.find((d: { version: string }) => d.version === version).impact[0].hour_after;
    // The rollback's baseline is the 10% v2 was burning: its own 1% is below it, so it is charged nothing.
    expect(hourAfter('v1')).toMatchObject({
      valid: 1000,
      bad: 10,
      baseline_error_ratio: 0.1,
      charged_bad: 0,
      budget_burned: 0,
    });
    // v2 began its burn on a clean hour: every bad event of its hour is charged.
    expect(hourAfter('v2')).toMatchObject({
      valid: 2000,
      bad: 110,
      baseline_error_ratio: 0,
      charged_bad: 110,
    });
    expect(hourAfter('v2').budget_burned).toBeGreaterThan(0);
  });

  it('marks allowed gate calls once per release, and a reported deployment replaces the marker of its decision', async () => {
    await ctx.traffic(1000, 0);
    const first = await ctx.app.inject('/api/v1/gate?service=web&environment=production&sha=abc');
    await ctx.app.inject('/api/v1/gate?service=web&environment=production&sha=abc');
    await ctx.app.inject('/api/v1/gate?service=web&environment=production');
    let markers = ctx.sloguard.deployments.list({ service: 'web', limit: 10 });
    expect(markers).toEqual([
      expect.objectContaining({ version: 'abc', source: 'gate', decisionId: first.json().decision_id }),
    ]);
    const reported = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      payload: {
        service: 'web',
        environment: 'production',
        version: 'abc',
        decision_id: first.json().decision_id,
      },
    });
    expect(reported.statusCode).toBe(201);
    markers = ctx.sloguard.deployments.list({ service: 'web', limit: 10 });
    expect(markers).toEqual([expect.objectContaining({ version: 'abc', source: 'api' })]);
  });

  it('does not mark denied calls', async () => {
    await ctx.traffic(100, 20);
    const denied = await ctx.app.inject('/api/v1/gate?service=web&environment=production&sha=bad');
    expect(denied.statusCode).toBe(423);
    expect(ctx.sloguard.deployments.list({ service: 'web', limit: 10 })).toEqual([]);
  });

  it('names bad input', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ service: 'nobody', version: '1' }, 'service'],
      [{ service: 'web', version: '1', time: 'yesterday' }, 'time'],
      [{ service: 'web' }, 'body.version'],
      [{ service: 'web', version: '1', colour: 'blue' }, 'body.colour'],
    ];
    for (const [payload, field] of cases) {
      const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/deployments', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({ field });
    }
  });
});
