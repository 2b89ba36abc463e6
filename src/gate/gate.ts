import { randomUUID } from 'node:crypto';
import type { SloRegistry } from '../definitions/registry.js';
import type { SloEvaluator } from '../evaluate/scheduler.js';
import type { GateDecisionStore } from '../store/gateDecisions.js';
import { type Decision, decideGate, type GateRequest, type GateVerdict } from './decide.js';

/** A verdict with its identity, as stored in the audit trail and answered to CI. */
export interface GateDecision extends GateVerdict {
  id: string;
  decidedAtMs: number;
  request: GateRequest;
  mode: 'enforce';
}

export function isAllowed(decision: Decision): boolean {
  return decision === 'allow' || decision === 'warn';
}

/** One decision for every caller: evaluates the policy over the latest statuses and records it. */
export class DeployGate {
  constructor(
    private readonly evaluator: SloEvaluator,
    private readonly registry: () => SloRegistry,
    private readonly decisions: GateDecisionStore,
  ) {}

  decide(request: GateRequest, nowMs = Date.now()): GateDecision {
    const defined = this.registry().byService.get(request.service) ?? [];
    const statuses = defined.flatMap((d) => this.evaluator.status(d.name) ?? []);
    const verdict = decideGate(request, statuses, defined.length, (s) => this.evaluator.isStale(s, nowMs));
    const decision: GateDecision = {
      ...verdict,
      id: randomUUID(),
      decidedAtMs: nowMs,
      request,
      mode: 'enforce',
    };
    this.decisions.append({
      id: decision.id,
      decidedAtMs: nowMs,
      service: request.service,
      environment: request.environment ?? null,
      version: request.version ?? null,
      changeType: request.changeType,
      decision: decision.decision,
      reason: decision.reason,
      request,
      answer: {
        decision: decision.decision,
        reason: decision.reason,
        stale: decision.stale,
        statuses: verdict.statuses,
      },
    });
    return decision;
  }
}
