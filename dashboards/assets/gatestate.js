// Gate state per service as the latest gate decision left it (frozen or open), from the decision audit.
import { getOptionalJson } from './common.js';

/** Map service → { frozen, decision, decidedAt } from the newest decision of each service. */
export async function loadGateStates() {
  const body = await getOptionalJson('/api/v1/gate/decisions?limit=1000');
  const states = new Map();
  // The audit lists newest first, so the first decision seen per service is its current state.
  for (const decision of body?.decisions ?? []) {
    if (states.has(decision.service)) continue;
    states.set(decision.service, {
      frozen: decision.answer?.frozen === true,
      decision: decision.decision,
      decidedAt: decision.decided_at,
    });
  }
  return states;
}
