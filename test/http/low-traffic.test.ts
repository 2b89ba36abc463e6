import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertLevel } from '../../src/alert/state.js';
import { nginxLine, testApp } from '../helpers/app.js';
import { ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/** The README tour's service: profile-availability, 99.95% over 28 days (slo-definitions/user-profile.yaml). */
let ctx: Awaited<ReturnType<typeof testApp>>;
beforeEach(async () => {
  ctx = await testApp();
});
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await ctx.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** `good` 200s and `bad` 503s of /profile/:id, in bodies of at most 500 lines. */
async function profileTraffic(good: number, bad: number) {
  const t = Date.now() - 1_000;
  const lines = Array.from({ length: good + bad }, (_, i) =>
    nginxLine(t, 'GET', `/profile/${i}`, i < bad ? 503 : 200, 0.05),
  );
  for (let start = 0; start < lines.length; start += 500) {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&source=edge&service=user-profile',
      payload: lines.slice(start, start + 500).join('\n'),
    });
    expect(response.statusCode).toBe(202);
  }
  return ctx.sloguard.evaluator.evaluateAll().find((s) => s.name === 'profile-availability')!;
}

const gate = () => ctx.app.inject('/api/v1/gate?service=user-profile&environment=production');

describe('low traffic', () => {
  it('two requests, one failed: insufficient-data, the gate warns (200), nothing alerts or freezes', async () => {
    const status = await profileTraffic(1, 1);
    // 99.95% allows one bad event in 2,000: two requests cannot judge the budget.
    expect(status).toMatchObject({
      valid: 2,
      state: 'insufficient-data',
      enoughData: false,
      minValidEvents: 2000,
      firing: null,
    });
    expect(alertLevel(status)).toBe('ok');
    const answer = await gate();
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ decision: 'warn', frozen: false });
    // profile-latency (90%) needs 10 events to allow one slow one: two are too few as well.
    expect(answer.json().reason).toBe(
      'too few events to judge the error budget of profile-availability (2 of 2000 valid events), profile-latency (2 of 10 valid events) (on_insufficient_data: warn)',
    );
    const view = (await ctx.app.inject('/api/v1/slos/profile-availability')).json();
    expect(view).toMatchObject({ state: 'insufficient-data', min_valid_events: 2000, enough_data: false });
  });

  it('the same 50% error rate over enough events: exhausted, a page, and the gate denies (423)', async () => {
    await profileTraffic(1, 1);
    const status = await profileTraffic(999, 999);
    expect(status).toMatchObject({ valid: 2000, state: 'exhausted', enoughData: true, firing: 'page' });
    expect(alertLevel(status)).toBe('critical');
    const answer = await gate();
    expect(answer.statusCode).toBe(423);
    expect(answer.json()).toMatchObject({ decision: 'deny', frozen: true });
  });

  it('a GatePolicy minValidEvents judges with its own minimum, and onInsufficientData chooses the answer', async () => {
    const definitions = tempDir('sloguard-low-traffic-');
    cpSync(join(ROOT, 'slo-definitions'), definitions.path, { recursive: true });
    definitions.file(
      'user-profile-gate.yaml',
      `apiVersion: sloguard/v1
kind: GatePolicy
metadata: { name: user-profile-gate }
spec:
  service: user-profile
  environments:
    production: { minValidEvents: 1 }
    staging: { onInsufficientData: deny }
`,
    );
    await ctx.close();
    ctx = await testApp({ definitionsPath: definitions.path });
    cleanups.push(() => definitions.cleanup());
    await profileTraffic(1, 1);
    const production = await gate();
    expect(production.statusCode).toBe(423);
    expect(
      production.json().slos.find((s: { name: string }) => s.name === 'profile-availability').state,
    ).toBe('exhausted');
    const staging = await ctx.app.inject('/api/v1/gate?service=user-profile&environment=staging');
    expect(staging.statusCode).toBe(423);
    expect(staging.json().reason).toContain('on_insufficient_data: deny');
  });
});
