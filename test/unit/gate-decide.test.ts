import { describe, expect, it } from 'vitest';
import { decideGate, nextFreeze } from '../../src/gate/decide.js';
import { timeOrderedId } from '../../src/gate/ids.js';
import { GatePolicies } from '../../src/gate/policy.js';
import {
  type ActiveOverride,
  CHANGE_TYPES,
  type ChangeType,
  type GateInputs,
  type ResolvedPolicy,
} from '../../src/model/gate.js';
import type { SloStatus } from '../../src/model/status.js';

const NOW = Date.UTC(2026, 10, 23, 12);

/** A status as the evaluator would give it: remaining budget ratio, highest firing tier, data or none. */
function status(
  name: string,
  { remaining, firing = null }: { remaining: number | null; firing?: 'page' | 'ticket' | null },
): SloStatus {
  const valid = remaining === null ? 0 : 100_000;
  const allowed = valid * 0.001;
  const consumed = remaining === null ? 0 : allowed * (1 - remaining);
  const state = valid === 0 ? 'no-data' : remaining! <= 0 ? 'exhausted' : firing ? 'warning' : 'ok';
  const tier = (severity: 'page' | 'ticket', long: '1h' | '1d', short: '5m' | '2h', factor: number) => ({
    severity,
    longWindow: long,
    shortWindow: short,
    factor,
    longBurnRate: firing === severity ? factor * 1.5 : 0.5,
    shortBurnRate: firing === severity ? factor * 2 : 0.5,
    state: firing === severity ? ('firing' as const) : ('ok' as const),
  });
  return {
    name,
    service: 'checkout',
    indicator: 'availability',
    objective: 0.999,
    objectivePercent: 99.9,
    window: '28d',
    evaluatedAtMs: NOW,
    state,
    minValidEvents: 1000,
    enoughData: valid >= 1000,
    good: valid - consumed,
    valid,
    sli: valid === 0 ? null : (valid - consumed) / valid,
    sliErrorBound: 0,
    budget: {
      allowed,
      consumed,
      remaining: allowed - consumed,
      consumedRatio: remaining === null ? null : 1 - remaining,
      remainingRatio: remaining,
      allowedDowntimeSeconds: 2419.2,
    },
    burnRates: { '5m': null, '30m': null, '1h': null, '2h': null, '6h': null, '1d': null, '3d': null },
    alerts: [tier('page', '1h', '5m', 14), tier('ticket', '1d', '2h', 2)],
    firing,
    timeToExhaustionSeconds: null,
    lastObservationMs: remaining === null ? null : NOW,
    windowStartMs: NOW - 28 * 86_400_000,
  } as SloStatus;
}

const policy = (overrides: Partial<ResolvedPolicy> = {}): ResolvedPolicy => ({
  ...new GatePolicies().resolve('checkout', 'production'),
  ...overrides,
});

const OVERRIDE: ActiveOverride = {
  id: 'ov-1',
  actor: 'alice',
  reason: 'incident fix',
  ticket: 'INC-7',
  expiresAtMs: NOW + 3_600_000,
};

/** Budget states of the first SLO: remaining ratio and the freeze remembered before. */
const BUDGETS = {
  healthy: { remaining: 0.6, frozenBefore: false },
  low: { remaining: 0.15, frozenBefore: false },
  exhausted: { remaining: -0.1, frozenBefore: false },
  recovering: { remaining: 0.05, frozenBefore: true },
  recovered: { remaining: 0.4, frozenBefore: true },
} as const;
const BURNS = ['none', 'ticket', 'page'] as const;
const FRESHNESS = ['fresh', 'stale', 'no-data'] as const;
const ON_NO_DATA = ['deny', 'warn', 'allow'] as const;
const MODES = ['enforce', 'observe'] as const;

type Case = {
  budget: keyof typeof BUDGETS;
  burn: (typeof BURNS)[number];
  changeType: ChangeType;
  override: boolean;
  mode: (typeof MODES)[number];
  freshness: (typeof FRESHNESS)[number];
  onNoData: (typeof ON_NO_DATA)[number];
};

const cases: Case[] = [];
for (const budget of Object.keys(BUDGETS) as Array<keyof typeof BUDGETS>)
  for (const burn of BURNS)
    for (const changeType of CHANGE_TYPES)
      for (const override of [false, true])
        for (const mode of MODES)
          for (const freshness of FRESHNESS)
            for (const onNoData of ON_NO_DATA)
              cases.push({ budget, burn, changeType, override, mode, freshness, onNoData });

function inputs(c: Case): GateInputs {
  const { remaining, frozenBefore } = BUDGETS[c.budget];
  const statuses = [
    status('checkout-availability', { remaining, firing: c.burn === 'none' ? null : c.burn }),
    status('checkout-latency', { remaining: c.freshness === 'no-data' ? null : 0.9 }),
  ];
  return {
    request: { service: 'checkout', environment: 'production', changeType: c.changeType },
    policy: policy({ mode: c.mode, onNoData: c.onNoData }),
    countedSlos: 2,
    statuses,
    staleSlos: new Set(c.freshness === 'stale' ? ['checkout-latency'] : []),
    frozen: frozenBefore,
    override: c.override ? OVERRIDE : null,
  };
}

/** The documented policy (README "The deploy gate"), stated independently of the implementation. */
function documented(c: Case) {
  const dataMissing = c.freshness !== 'fresh';
  // A freeze lifts only once every SLO shows more than the margin left; an SLO without data shows nothing.
  const stillFrozen = c.budget === 'recovering' || (c.budget === 'recovered' && c.freshness === 'no-data');
  const denyReasons = [
    ...(c.budget === 'exhausted' ? ['has exhausted its error budget'] : []),
    ...(stillFrozen ? ['must exceed the recovery margin 10%'] : []),
    ...(c.burn === 'page' ? ['page-tier alert firing'] : []),
    ...(dataMissing && c.onNoData === 'deny'
      ? [c.freshness === 'stale' ? 'stale statuses' : 'no data for']
      : []),
  ];
  const warnReasons = [
    ...(c.budget === 'low' ? ['of its error budget left'] : []),
    ...(c.burn === 'ticket' ? ['ticket-tier alert firing'] : []),
    ...(dataMissing && c.onNoData === 'warn' ? ['on_no_data: warn'] : []),
  ];
  const frozen = c.budget === 'exhausted' || stillFrozen;
  if (denyReasons.length > 0) {
    const blocked = { wouldBlock: true, frozen, reasons: denyReasons };
    if (c.changeType === 'rollback' || c.changeType === 'security') {
      return {
        ...blocked,
        decision: 'allow',
        exemption: c.changeType,
        override: false,
        lead: 'changes are exempt',
      };
    }
    if (c.override)
      return {
        ...blocked,
        decision: 'allow',
        exemption: null,
        override: true,
        lead: 'override ov-1 by alice',
      };
    if (c.mode === 'observe') {
      return {
        ...blocked,
        decision: 'allow',
        exemption: null,
        override: false,
        lead: 'observe mode: the policy would deny',
      };
    }
    return { ...blocked, decision: 'deny', exemption: null, override: false, lead: '' };
  }
  const base = { wouldBlock: false, frozen, exemption: null, override: false };
  if (warnReasons.length > 0) return { ...base, decision: 'warn', reasons: warnReasons, lead: '' };
  return { ...base, decision: 'allow', reasons: ['are within budget'], lead: '' };
}

describe('the gate policy, every combination', () => {
  it(`covers ${cases.length} combinations of budget × burn × change type × override × mode × freshness × on_no_data`, () => {
    expect(cases.length).toBe(5 * 3 * 5 * 2 * 2 * 3 * 3);
  });

  it.each(cases)(
    'budget $budget, burn $burn, $changeType, override $override, $mode, $freshness, on_no_data $onNoData',
    (c) => {
      const verdict = decideGate(inputs(c));
      const expected = documented(c);
      expect(verdict.decision).toBe(expected.decision);
      expect(verdict.wouldBlock).toBe(expected.wouldBlock);
      expect(verdict.exemption).toBe(expected.exemption);
      expect(verdict.override?.id ?? null).toBe(expected.override ? 'ov-1' : null);
      expect(verdict.frozen).toBe(expected.frozen);
      expect(verdict.mode).toBe(c.mode);
      expect(verdict.stale).toBe(c.freshness === 'stale');
      for (const reason of expected.reasons) expect(verdict.reason).toContain(reason);
      expect(verdict.reason).toContain(expected.lead);
    },
  );
});

describe('gate policy details', () => {
  const base = (overrides: Partial<GateInputs> = {}): GateInputs => ({
    request: { service: 'checkout', environment: 'production', changeType: 'hotfix' },
    policy: policy(),
    countedSlos: 1,
    statuses: [status('checkout-availability', { remaining: -0.2 })],
    staleSlos: new Set(),
    frozen: false,
    override: null,
    ...overrides,
  });

  it('lets hotfix and config through a frozen gate only when the policy exempts them', () => {
    expect(decideGate(base()).decision).toBe('deny');
    const exempting = policy({ exempt: ['rollback', 'security', 'hotfix'] });
    const verdict = decideGate(base({ policy: exempting }));
    expect(verdict).toMatchObject({ decision: 'allow', exemption: 'hotfix', wouldBlock: true });
    const config = decideGate(
      base({ policy: exempting, request: { service: 'checkout', changeType: 'config' } }),
    );
    expect(config.decision).toBe('deny');
  });

  it('answers error when the service has no SLO or none was evaluated yet, whatever the mode', () => {
    expect(decideGate(base({ countedSlos: 0, statuses: [] }))).toMatchObject({
      decision: 'error',
      reason: 'no SLO is defined for service "checkout"',
    });
    expect(decideGate(base({ countedSlos: 2, policy: policy({ mode: 'observe' }) })).decision).toBe('error');
  });

  it("names the service's runbook and owner in a deny, and only in a deny", () => {
    const firing = [status('checkout-availability', { remaining: 0.7, firing: 'page' })];
    const ownership = { runbook: 'https://runbooks.example.com/checkout', owner: 'payments' };
    const denied = decideGate(base({ statuses: firing, ownership }));
    expect(denied.decision).toBe('deny');
    expect(denied.reason).toMatch(/; runbook https:\/\/runbooks\.example\.com\/checkout \(owner payments\)$/);
    const observed = decideGate(base({ statuses: firing, ownership, policy: policy({ mode: 'observe' }) }));
    expect(observed.reason).not.toContain('runbook');
    const ownerOnly = decideGate(base({ statuses: firing, ownership: { runbook: null, owner: 'payments' } }));
    expect(ownerOnly.reason).toMatch(/; owner payments$/);
  });

  it('does not deny on a page alert when denyOnPageAlert is off: it warns', () => {
    const firing = [status('checkout-availability', { remaining: 0.7, firing: 'page' })];
    expect(
      decideGate(base({ statuses: firing, request: { service: 'c', changeType: 'feature' } })).decision,
    ).toBe('deny');
    const lenient = decideGate(base({ statuses: firing, policy: policy({ denyOnPageAlert: false }) }));
    expect(lenient.decision).toBe('warn');
    expect(lenient.reason).toContain('page-tier alert firing');
  });

  it('keeps a freeze until every SLO is past the recovery margin, and keeps it when data is missing', () => {
    const at = (remaining: number | null) => [status('a', { remaining })];
    expect(nextFreeze(false, at(0), 0.1)).toBe(true);
    expect(nextFreeze(true, at(0.1), 0.1)).toBe(true);
    expect(nextFreeze(true, at(0.1001), 0.1)).toBe(false);
    expect(nextFreeze(true, at(null), 0.1)).toBe(true);
    expect(nextFreeze(false, at(0.01), 0.1)).toBe(false);
    expect(nextFreeze(true, at(0.3), 0.25)).toBe(false);
  });
});

describe('decision ids', () => {
  it('are UUIDv7: the time first, so they sort as they were decided', () => {
    const atMs = Date.UTC(2026, 10, 23, 12);
    const ids = [atMs, atMs + 1, atMs + 1, atMs + 60_000].map((ms) => timeOrderedId(ms));
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(Number.parseInt(ids[0]!.replace('-', '').slice(0, 12), 16)).toBe(atMs);
    expect(new Set(ids).size).toBe(4);
    expect(ids[0]! < ids[1]! && ids[1]!.slice(0, 13) === ids[2]!.slice(0, 13) && ids[2]! < ids[3]!).toBe(
      true,
    );
  });
});
