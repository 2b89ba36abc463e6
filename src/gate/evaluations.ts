import { randomUUID } from 'node:crypto';
import type { GateDecision, GateRequest } from '../model/gate.js';
import type { EvaluationStatus, GateEvaluation, GateEvaluationStore } from '../store/gateEvaluations.js';
import { type DeployGate, isAllowed } from './gate.js';

/** Longest an asynchronous evaluation may keep waiting for the gate to open. */
export const MAX_EVALUATION_WAIT_MS = 6 * 3_600_000;

/** Allowed is done; a deny or an error keeps running while the caller is willing to wait, then is final. */
export function evaluationStatus(
  decision: GateDecision,
  nowMs: number,
  deadlineMs: number,
): EvaluationStatus {
  if (isAllowed(decision.decision)) return 'SUCCEEDED';
  return nowMs < deadlineMs ? 'RUNNING' : 'TERMINAL';
}

/**
 * Asynchronous gate evaluations for callers that poll (Spinnaker's webhook stage): created with a wait, the
 * gate is asked again on each poll until it allows or the wait is over, so an override or a recovered budget
 * counts at the next poll. Each ask is a decision in the audit trail, like any other, answered once committed.
 */
export class GateEvaluations {
  constructor(
    private readonly store: GateEvaluationStore,
    private readonly gate: DeployGate,
    private readonly answerOf: (decision: GateDecision) => unknown,
  ) {}

  private async decide(evaluation: GateEvaluation, nowMs: number): Promise<GateEvaluation> {
    const decision = await this.gate.decideCommitted(evaluation.request as GateRequest, nowMs);
    return {
      ...evaluation,
      status: evaluationStatus(decision, nowMs, evaluation.deadlineMs),
      answer: this.answerOf(decision),
      decidedAtMs: nowMs,
    };
  }

  async start(request: GateRequest, waitMs: number, nowMs = Date.now()): Promise<GateEvaluation> {
    const evaluation = await this.decide(
      {
        id: randomUUID(),
        request,
        createdAtMs: nowMs,
        deadlineMs: nowMs + waitMs,
        status: 'RUNNING',
        answer: null,
        decidedAtMs: null,
      },
      nowMs,
    );
    this.store.save(evaluation, true);
    return evaluation;
  }

  /** The evaluation as of now: a running one is decided again. */
  async poll(id: string, nowMs = Date.now()): Promise<GateEvaluation | undefined> {
    const evaluation = this.store.get(id);
    if (evaluation?.status !== 'RUNNING') return evaluation;
    const next = await this.decide(evaluation, nowMs);
    this.store.save(next, false);
    return next;
  }
}
