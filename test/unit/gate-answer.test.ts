import { describe, expect, it } from 'vitest';
import { gateAnswer } from '../../src/gate/answer.js';
import { GatePolicies } from '../../src/gate/policy.js';
import type { GateDecision } from '../../src/model/gate.js';

const decidedAt = (decidedAtMs: number): GateDecision => ({
  decision: 'allow',
  reason: 'no SLO counted',
  statuses: [],
  stale: false,
  fromLastRun: false,
  mode: 'enforce',
  wouldBlock: false,
  exemption: null,
  override: null,
  frozen: false,
  id: 'd-1',
  decidedAtMs,
  request: { service: 'web', changeType: 'feature' },
  policy: new GatePolicies().resolve('web', null),
});

describe('gate answer times', () => {
  it('writes decided_at as toISOString does, its text to the second made once a second', () => {
    const start = Date.UTC(2026, 11, 31, 23, 59, 58);
    // Every millisecond across a second's, a minute's, an hour's, a day's and a year's end.
    const times = Array.from({ length: 4_000 }, (_, i) => start + i);
    // Out of order, the epoch, before it, fractions and past year 9999 (toISOString's longer form).
    times.push(start + 5, start - 86_400_000 + 7, 0, 999, 1000, -1, -1500, start + 0.5, 253_402_300_800_123);
    for (const ms of times) expect(gateAnswer(decidedAt(ms)).decided_at).toBe(new Date(ms).toISOString());
  });
});
