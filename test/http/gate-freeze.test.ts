import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { databaseIn, gateApp } from '../helpers/gateFixtures.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('sloguard-freeze-');
let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});
afterAll(() => dir.cleanup());

const ask = async (env: string) =>
  (await ctx!.app.inject(`/api/v1/gate?service=web&environment=${env}`)).json();

describe('freeze hysteresis', () => {
  it('keeps a freeze across a restart until the budget is past the recovery margin', async () => {
    const databasePath = databaseIn(dir.path);
    ctx = await gateApp({ databasePath });
    const changes: string[] = [];
    ctx.sloguard.gate.on('freeze-changed', (change) =>
      changes.push(`${change.environment}: ${change.frozen}`),
    );
    await ctx.traffic(99, 1);
    expect(await ask('production')).toMatchObject({ decision: 'deny', frozen: true });
    await ctx.close();

    ctx = await gateApp({ databasePath });
    // 1 bad of 1,100: 9.1% of the budget left. Unfrozen this would only warn (below 25%); frozen it stays shut.
    await ctx.traffic(1000, 0);
    const still = await ask('production');
    expect(still).toMatchObject({ decision: 'deny', frozen: true });
    expect(still.reason).toContain('must exceed the recovery margin 10%');
    // 1 bad of 3,100: 67.7% left, past the margin: the freeze lifts.
    await ctx.traffic(2000, 0);
    expect(await ask('production')).toMatchObject({ decision: 'allow', frozen: false });
    // Each scope froze once: staging (named by the policy) on the evaluation, production on its first ask.
    expect(changes).toEqual(['staging: true', 'production: true']);
  });

  it('follows the budget on every evaluation, even while nobody asks the gate', async () => {
    ctx = await gateApp();
    await ctx.traffic(1000, 0);
    expect((await ask('production')).decision).toBe('allow');
    // Exhausted (2 bad of 1,002), then 0.1% left, between two gate calls: the evaluations remembered the
    // freeze for the environment asked before and for those the policy names. Unfrozen, 0.1% would only warn.
    await ctx.traffic(0, 2);
    await ctx.traffic(1000, 0);
    expect(await ask('production')).toMatchObject({ decision: 'deny', frozen: true });
    const freezes = await ctx.app.inject('/api/v1/gate/freezes?service=web');
    expect(freezes.json().freezes).toEqual([
      { service: 'web', environment: 'production', frozen: true, changed_at: expect.any(String) },
      { service: 'web', environment: 'staging', frozen: true, changed_at: expect.any(String) },
    ]);
    // Staging observes: it allows, and says it would block.
    const staging = await ask('staging');
    expect(staging).toMatchObject({ decision: 'allow', mode: 'observe', would_block: true, frozen: true });
    expect(staging.reason).toMatch(/^observe mode: the policy would deny: frozen since/);
  });
});
