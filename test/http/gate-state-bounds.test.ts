import { afterEach, describe, expect, it } from 'vitest';
import type { GateRetention } from '../../src/config/config.js';
import { openDatabase } from '../../src/store/database.js';
import { GateFreezeStore } from '../../src/store/gateFreezes.js';
import { gateApp } from '../helpers/gateFixtures.js';

const CALLS = 50_000;
const retention: GateRetention = {
  maxEnvironments: 20,
  scopeRetentionDays: 30,
  decisionRetentionDays: 400,
  maxDecisions: 10_000,
  deploymentRetentionDays: 400,
  maxDeployments: 1_000,
};

let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const rows = (table: string) =>
  (ctx!.sloguard.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('gate state stays bounded', () => {
  it(`after ${CALLS} gate calls naming distinct environments, a tick checks a bounded set of scopes`, async () => {
    ctx = await gateApp({ gateRetention: retention });
    await ctx.traffic(1000, 0);
    const { gate, decisions } = ctx.sloguard;
    const nowMs = Date.now();
    for (let i = 0; i < CALLS; i++) {
      gate.decide(
        { service: 'web', environment: `env-${i}`, version: `v${i}`, changeType: 'feature' },
        nowMs,
      );
      // Unknown services leave no scope behind at all.
      if (i % 50 === 0) gate.decide({ service: `unknown-${i}`, changeType: 'feature' }, nowMs);
      if (i % 1000 === 999) await decisions.committed();
    }
    await decisions.committed();
    const http = await ctx.app.inject('/api/v1/gate?service=web&environment=one-more&version=x');
    expect(http.statusCode).toBe(200);

    expect(rows('gate_freezes')).toBeLessThanOrEqual(retention.maxEnvironments);
    const checked = gate.refreshFreezes();
    expect(checked).toBeGreaterThan(0);
    // The tick's work: the remembered scopes (capped) and the environments policies name (staging).
    expect(checked).toBeLessThanOrEqual(retention.maxEnvironments + 1);

    expect(rows('gate_decisions')).toBeGreaterThan(CALLS);
    expect(rows('deployments')).toBe(CALLS + 1);
    const removed = ctx.sloguard.pruneGateState(Date.now());
    expect(rows('gate_decisions')).toBeLessThanOrEqual(retention.maxDecisions);
    expect(rows('deployments')).toBeLessThanOrEqual(retention.maxDeployments);
    expect(removed.decisions).toBeGreaterThanOrEqual(CALLS - retention.maxDecisions);

    // The gate decides and records as before after its old inputs were pruned.
    const after = await ctx.app.inject('/api/v1/gate?service=web&environment=production&version=y');
    expect(after.statusCode).toBe(200);
    const audit = await ctx.app.inject('/api/v1/gate/decisions?service=web&limit=1');
    expect(audit.json().decisions[0]).toMatchObject({ environment: 'production', version: 'y' });
    // 64 s on a 2-core machine with two CPU hogs beside it.
  }, 240_000);

  it('drops decisions and deployments past their retention, and keeps newer ones append-only', async () => {
    ctx = await gateApp({ gateRetention: retention });
    await ctx.traffic(100, 0);
    const { gate, decisions } = ctx.sloguard;
    const old = Date.now() - 401 * 86_400_000;
    // Not production: decided 401 days ago the statuses are from its future (stale), which only warns here.
    for (let i = 0; i < 10; i++) {
      gate.decide({ service: 'web', environment: 'dev', version: `old-${i}`, changeType: 'feature' }, old);
      gate.decide({ service: 'web', environment: 'dev', version: `new-${i}`, changeType: 'feature' });
    }
    await decisions.committed();
    const removed = ctx.sloguard.pruneGateState(Date.now());
    expect(removed).toMatchObject({ decisions: 10, deployments: 10 });
    expect(rows('gate_decisions')).toBe(10);
    expect(() => ctx!.sloguard.db.prepare('DELETE FROM gate_decisions').run()).toThrow('append-only');
  });
});

describe('GateFreezeStore cap', () => {
  it('gives the place of the open scope unchanged longest to a new one, and never forgets a frozen scope', () => {
    const db = openDatabase(':memory:');
    const store = new GateFreezeStore(db, 3);
    expect(store.set({ service: 'web', environment: 'production' }, true, 1)).toBe(true);
    expect(store.set({ service: 'web', environment: 'a' }, false, 2)).toBe(true);
    expect(store.set({ service: 'web', environment: 'b' }, false, 3)).toBe(true);
    expect(store.set({ service: 'web', environment: 'c' }, false, 4)).toBe(true);
    expect(store.isFrozen({ service: 'web', environment: 'a' })).toBeUndefined();
    expect(store.set({ service: 'web', environment: 'd' }, true, 5)).toBe(true);
    expect(store.set({ service: 'web', environment: 'e' }, true, 6)).toBe(true);
    // Every remembered scope is frozen: a new one is not remembered.
    expect(store.set({ service: 'web', environment: 'f' }, true, 7)).toBe(false);
    expect(
      store
        .scopes()
        .map((s) => s.environment)
        .sort(),
    ).toEqual(['d', 'e', 'production']);
    expect(new GateFreezeStore(db, 3).isFrozen({ service: 'web', environment: 'production' })).toBe(true);
    db.close();
  });
});
