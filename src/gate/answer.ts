import { tidyNumber } from '../evaluate/numbers.js';
import type { ActiveOverride, GateDecision } from '../model/gate.js';
import type { SloStatus } from '../model/status.js';
import type { GateOverride } from '../store/gateOverrides.js';
import { isAllowed } from './gate.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * `decided_at` changes every millisecond, its date and time of day once a second: the text up to the
 * milliseconds is made once a second (toISOString costs about as much as the rest of the answer's times).
 */
let second = { startMs: Number.NaN, prefix: '' };
function decidedAtText(ms: number): string {
  const startMs = Math.floor(ms / 1000) * 1000;
  if (!Number.isInteger(ms) || startMs < 0) return iso(ms);
  if (startMs !== second.startMs) second = { startMs, prefix: iso(startMs).slice(0, -4) };
  return `${second.prefix}${String(ms - startMs).padStart(3, '0')}Z`;
}

/** The answers' `evaluated_at` changes once per evaluation, where the gate answers many times on it. */
let evaluatedAt = { ms: Number.NaN, text: '' };
function evaluatedAtText(ms: number): string {
  if (ms !== evaluatedAt.ms) evaluatedAt = { ms, text: iso(ms) };
  return evaluatedAt.text;
}

export const overrideView = (o: ActiveOverride | GateOverride) => ({
  id: o.id,
  actor: o.actor,
  reason: o.reason,
  ticket: o.ticket,
  expires_at: iso(o.expiresAtMs),
});

const tidyOrNull = (value: number | null) => (value === null ? null : tidyNumber(value));

/**
 * One SLO of a gate answer, its numbers tidied here (the answer's only fractions): built once per status, as
 * the evaluator publishes new status objects and never changes them, where the gate answers many times.
 */
const sloViews = new WeakMap<SloStatus, ReturnType<typeof buildSloView>>();
const buildSloView = (s: SloStatus) => ({
  name: s.name,
  window: s.window,
  objective: tidyNumber(s.objective),
  sli: tidyOrNull(s.sli),
  budget_remaining: tidyOrNull(s.budget.remainingRatio),
  burn_rates: Object.fromEntries(
    Object.entries(s.burnRates).map(([window, rate]) => [window, tidyOrNull(rate)]),
  ),
  firing: s.firing,
  state: s.state,
});
function sloView(status: SloStatus) {
  let view = sloViews.get(status);
  if (view === undefined) {
    view = buildSloView(status);
    sloViews.set(status, view);
  }
  return view;
}

/**
 * The gate's answer, in the contract's shape (DESIGN.md): every caller reads this same JSON. Its numbers are
 * tidied as it is built, so its routes skip the edge's tidying pass (`numbersTidied`).
 */
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
    slos: decision.statuses.map(sloView),
    override: decision.override && overrideView(decision.override),
    exemption: decision.exemption,
    frozen: decision.frozen,
    policy: decision.policy.name,
    decision_id: decision.id,
    decided_at: decidedAtText(decision.decidedAtMs),
    evaluated_at: evaluatedAtText(oldest),
    stale: decision.stale,
    from_last_run: decision.fromLastRun,
  };
}
export type GateAnswer = ReturnType<typeof gateAnswer>;
