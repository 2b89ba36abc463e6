import type { SloStatus } from '../evaluate/status.js';
import type { GateDecision } from '../gate/gate.js';
import { isAllowed } from '../gate/gate.js';
import { isoTime } from './time.js';

/** An SloStatus as the API shows it (snake_case, ISO times). */
export function statusView(status: SloStatus, stale: boolean) {
  return {
    name: status.name,
    service: status.service,
    indicator: status.indicator,
    objective: status.objective,
    objective_percent: status.objectivePercent,
    window: status.window,
    window_start: isoTime(status.windowStartMs),
    state: status.state,
    sli: status.sli,
    sli_error_bound: status.sliErrorBound,
    good: status.good,
    valid: status.valid,
    budget: {
      allowed: status.budget.allowed,
      consumed: status.budget.consumed,
      remaining: status.budget.remaining,
      consumed_ratio: status.budget.consumedRatio,
      remaining_ratio: status.budget.remainingRatio,
      allowed_downtime_seconds: status.budget.allowedDowntimeSeconds,
    },
    burn_rates: status.burnRates,
    alerts: status.alerts.map((tier) => ({
      severity: tier.severity,
      long_window: tier.longWindow,
      short_window: tier.shortWindow,
      factor: tier.factor,
      long_burn_rate: tier.longBurnRate,
      short_burn_rate: tier.shortBurnRate,
      state: tier.state,
    })),
    firing: status.firing,
    time_to_exhaustion_seconds: status.timeToExhaustionSeconds,
    last_observation_at: isoTime(status.lastObservationMs),
    evaluated_at: isoTime(status.evaluatedAtMs),
    stale,
  };
}

/** The gate's answer, in the contract's shape (DESIGN.md). */
export function gateView(decision: GateDecision) {
  const allowed = isAllowed(decision.decision);
  const oldest = decision.statuses.reduce((min, s) => Math.min(min, s.evaluatedAtMs), decision.decidedAtMs);
  return {
    allowed,
    decision: decision.decision,
    reason: decision.reason,
    mode: decision.mode,
    would_block: decision.decision === 'deny',
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
      state: s.state,
    })),
    override: null,
    exemption: null,
    decision_id: decision.id,
    decided_at: isoTime(decision.decidedAtMs),
    evaluated_at: isoTime(oldest),
    stale: decision.stale,
  };
}
