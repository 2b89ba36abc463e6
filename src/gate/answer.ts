import type { ActiveOverride, GateDecision } from '../model/gate.js';
import type { GateOverride } from '../store/gateOverrides.js';
import { isAllowed } from './gate.js';

const iso = (ms: number) => new Date(ms).toISOString();

export const overrideView = (o: ActiveOverride | GateOverride) => ({
  id: o.id,
  actor: o.actor,
  reason: o.reason,
  ticket: o.ticket,
  expires_at: iso(o.expiresAtMs),
});

/** The gate's answer, in the contract's shape (DESIGN.md): every caller reads this same JSON. */
export function gateAnswer(decision: GateDecision) {
  const oldest = decision.statuses.reduce((min, s) => Math.min(min, s.evaluatedAtMs), decision.decidedAtMs);
  return {
    allowed: isAllowed(decision.decision),
    decision: decision.decision,
    reason: decision.reason,
    mode: decision.mode,
    would_block: decision.wouldBlock,
    service: decision.request.service,
    environment: decision.request.environment ?? null,
    version: decision.request.version ?? null,
    change_type: decision.request.changeType,
    slos: decision.statuses.map((s) => ({
      name: s.name,
      window: s.window,
      objective: s.objective,
      sli: s.sli,
      budget_remaining: s.budget.remainingRatio,
      burn_rates: s.burnRates,
      firing: s.firing,
      state: s.state,
    })),
    override: decision.override && overrideView(decision.override),
    exemption: decision.exemption,
    frozen: decision.frozen,
    policy: decision.policy.name,
    decision_id: decision.id,
    decided_at: iso(decision.decidedAtMs),
    evaluated_at: iso(oldest),
    stale: decision.stale,
    from_last_run: decision.fromLastRun,
  };
}
export type GateAnswer = ReturnType<typeof gateAnswer>;
