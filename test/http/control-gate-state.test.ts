import { afterEach, describe, expect, it } from 'vitest';
import { type DecisionTrail, DeployGate, type SharedGateState } from '../../src/gate/gate.js';
import type { FreezeState } from '../../src/store/gateFreezes.js';
import type { GateOverride } from '../../src/store/gateOverrides.js';
import { gateApp } from '../helpers/gateFixtures.js';

let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const PRODUCTION = { service: 'web', environment: 'production', changeType: 'feature' } as const;
const PRODUCTION_SCOPE = { service: 'web', environment: 'production' };

/** Shared state that holds nothing, with `given` in its place. */
function sharedState(given: Partial<SharedGateState> = {}): SharedGateState {
  return {
    active: async () => undefined,
    freeze: async () => undefined,
    shareFreeze: () => undefined,
    ...given,
  };
}

/**
 * A gate over the app's own stores whose overrides and freezes are read from `shared`, as a replica's are; the
 * freeze changes its decisions hand to the audit trail with their rows go to `committedFreezes`.
 */
function replicaGate(
  app: NonNullable<typeof ctx>,
  shared: SharedGateState,
  committedFreezes: FreezeState[] = [],
): DeployGate {
  const { evaluator, definitions, stores } = app.sloguard;
  const decisions: DecisionTrail = {
    append: (record, freeze) => {
      if (freeze) committedFreezes.push(freeze);
      stores.decisions.append(record);
    },
    committed: () => stores.decisions.committed(),
    list: (query) => stores.decisions.list(query),
  };
  return new DeployGate(evaluator, definitions, { ...stores, shared, decisions }, { warn: () => undefined });
}

const override = (nowMs: number): GateOverride => ({
  id: 'granted-elsewhere',
  service: 'web',
  environment: 'production',
  sha: null,
  reason: 'hotfix',
  ticket: 'INC-7',
  actor: 'alice',
  createdAtMs: nowMs - 1_000,
  expiresAtMs: nowMs + 3_600_000,
  revokedAtMs: null,
  revokedBy: null,
});

describe('the gate over shared state (PostgreSQL mode)', () => {
  it('honours an override only the shared state holds', async () => {
    ctx = await gateApp();
    await ctx.traffic(0, 100);
    const nowMs = Date.now();
    const asked: string[] = [];
    const gate = replicaGate(
      ctx,
      sharedState({
        active: async (service, environment) => {
          asked.push(`${service}/${environment}`);
          return override(nowMs);
        },
      }),
    );
    expect(ctx.sloguard.gate.decide(PRODUCTION, nowMs).decision).toBe('deny');
    const decision = await gate.decideCommitted(PRODUCTION, nowMs);
    expect(decision).toMatchObject({ decision: 'allow', wouldBlock: true });
    expect(decision.override?.id).toBe('granted-elsewhere');
    expect(asked).toEqual(['web/production']);
  });

  it('answers by on_no_data, recording nothing, when the shared state cannot be read', async () => {
    ctx = await gateApp();
    await ctx.traffic(100, 0);
    const trail = async () => (await ctx!.sloguard.decisions.list({ limit: 1000 })).length;
    const before = await trail();
    const gate = replicaGate(
      ctx,
      sharedState({
        active: () => Promise.reject(new Error('canceling statement due to statement timeout')),
      }),
    );
    const decision = await gate.decideCommitted(PRODUCTION);
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toContain(
      'the gate state cannot be read (canceling statement due to statement timeout)',
    );
    expect(decision.reason).toContain('on_no_data: deny');
    expect(await trail()).toBe(before);
    // The same call over the process's own state allows: only the failed read denied it.
    expect((await ctx.sloguard.gate.decideCommitted(PRODUCTION)).decision).toBe('allow');
  });

  it('answers by on_no_data when the shared audit trail cannot commit the decision', async () => {
    ctx = await gateApp();
    await ctx.traffic(100, 0);
    const { evaluator, definitions, stores } = ctx.sloguard;
    const appended: string[] = [];
    const gate = new DeployGate(
      evaluator,
      definitions,
      {
        ...stores,
        shared: sharedState(),
        decisions: {
          append: (record) => void appended.push(record.id),
          committed: () => Promise.reject(new Error('Connection terminated unexpectedly')),
          list: () => [],
        },
      },
      { warn: () => undefined },
    );
    const decision = await gate.decideCommitted(PRODUCTION);
    expect(appended).toEqual([decision.id]);
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toContain('the decision cannot be recorded (Connection terminated unexpectedly)');
  });

  it('forgets the freeze a decision made when its commit fails', async () => {
    ctx = await gateApp();
    await ctx.traffic(0, 100);
    const { evaluator, definitions, stores } = ctx.sloguard;
    const gate = new DeployGate(
      evaluator,
      definitions,
      {
        ...stores,
        shared: sharedState(),
        decisions: {
          append: () => undefined,
          committed: () => Promise.reject(new Error('Connection terminated unexpectedly')),
          list: () => [],
        },
      },
      { warn: () => undefined },
    );
    expect((await gate.decideCommitted(PRODUCTION)).decision).toBe('deny');
    expect(stores.freezes.isFrozen(PRODUCTION)).toBeUndefined();
    // A freeze already recorded stays as it was when a later decision fails to commit.
    stores.freezes.set(PRODUCTION_SCOPE, false, 5_000);
    await gate.decideCommitted(PRODUCTION);
    expect(stores.freezes.state(PRODUCTION_SCOPE)).toEqual({
      ...PRODUCTION_SCOPE,
      frozen: false,
      changedAtMs: 5_000,
    });
  });

  it('carries on from the freeze another replica shared, and shares the thaw', async () => {
    ctx = await gateApp();
    await ctx.traffic(100, 0);
    const written: FreezeState[] = [];
    const shared = {
      service: 'web',
      environment: 'production',
      frozen: true,
      changedAtMs: Date.now() - 60_000,
    };
    const gate = replicaGate(ctx, sharedState({ freeze: async () => shared }), written);
    expect(ctx.sloguard.stores.freezes.isFrozen(shared)).toBeUndefined();
    const decision = await gate.decideCommitted(PRODUCTION);
    expect(decision).toMatchObject({ decision: 'allow', frozen: false });
    const [recorded] = await ctx.sloguard.decisions.list({ service: 'web', limit: 1 });
    expect(recorded?.answer).toMatchObject({ frozen_before: true, frozen: false });
    expect(written).toEqual([
      { service: 'web', environment: 'production', frozen: false, changedAtMs: decision.decidedAtMs },
    ]);
  });

  it('shares a freeze its decision makes, and writes nothing when the freeze stands', async () => {
    ctx = await gateApp();
    await ctx.traffic(0, 100);
    const written: FreezeState[] = [];
    const gate = replicaGate(ctx, sharedState(), written);
    const first = await gate.decideCommitted(PRODUCTION);
    expect(first).toMatchObject({ decision: 'deny', frozen: true });
    expect(written).toEqual([
      { service: 'web', environment: 'production', frozen: true, changedAtMs: first.decidedAtMs },
    ]);
    await gate.decideCommitted(PRODUCTION);
    expect(written).toHaveLength(1);
  });
});
