import { afterEach, describe, expect, it } from 'vitest';
import { gateApp } from '../helpers/gateFixtures.js';

type GateCtx = Awaited<ReturnType<typeof gateApp>>;
const opened: GateCtx[] = [];
afterEach(async () => {
  for (const ctx of opened.splice(0)) await ctx.close();
});

const ENVIRONMENTS = Array.from({ length: 12 }, (_, i) => `env-${i}`);

/**
 * A gate whose budget is exhausted and every scope frozen by the evaluation, then set open again in the store
 * as a tick before would have left them: what the next refresh has to carry forward.
 */
async function exhaustedWithOpenScopes(): Promise<GateCtx> {
  const ctx = await gateApp();
  opened.push(ctx);
  await ctx.traffic(1000, 0);
  const { gate, stores } = ctx.sloguard;
  for (const environment of ENVIRONMENTS)
    gate.decide({ service: 'web', environment, version: 'v1', changeType: 'feature' });
  await ctx.traffic(0, 2);
  for (const environment of [...ENVIRONMENTS, 'staging'])
    stores.freezes.set({ service: 'web', environment }, false, Date.now());
  return ctx;
}

const frozenByScope = (ctx: GateCtx) =>
  ctx.sloguard.gate.freezes('web').map((state) => `${state.environment}: ${state.frozen}`);

describe('the freeze refresh in steps', () => {
  it('ends where the refresh in one piece does, a gate request between two steps deciding on the new statuses', async () => {
    const whole = await exhaustedWithOpenScopes();
    const stepped = await exhaustedWithOpenScopes();
    expect(frozenByScope(stepped).every((line) => line.endsWith('false'))).toBe(true);

    expect(whole.sloguard.gate.refreshFreezes()).toBe(ENVIRONMENTS.length + 1);
    const work = stepped.sloguard.gate.refreshFreezesInSteps();
    let steps = 0;
    for (; steps < 4; steps++) work.next();
    // Mid-refresh: some scopes carried forward, the rest still as the tick before left them.
    const midway = frozenByScope(stepped);
    expect(midway.filter((line) => line.endsWith('true')).length).toBeGreaterThan(0);
    expect(midway.filter((line) => line.endsWith('false')).length).toBeGreaterThan(0);
    // A request for a scope not yet refreshed freezes it from the statuses itself.
    const last = ENVIRONMENTS.at(-1)!;
    expect(stepped.sloguard.gate.freezes('web').find((s) => s.environment === last)?.frozen).toBe(false);
    const answer = (await stepped.app.inject(`/api/v1/gate?service=web&environment=${last}`)).json();
    expect(answer).toMatchObject({ decision: 'deny', frozen: true });
    while (work.next().done !== true) steps += 1;
    expect(steps).toBeGreaterThanOrEqual(ENVIRONMENTS.length);

    expect(frozenByScope(stepped)).toEqual(frozenByScope(whole));
    expect(frozenByScope(whole).every((line) => line.endsWith('true'))).toBe(true);
  });
});
