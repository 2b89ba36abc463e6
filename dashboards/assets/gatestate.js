// Deploy-gate freeze state per service, from the gate's freeze list (one row per service and environment).
import { getOptionalJson } from './common.js';

/**
 * Map service → { frozen, environments: frozen environment names, changedAt }; empty when the gate has none.
 * A freeze with no environment (a gate call naming none, or the evaluation's for a service whose policy names
 * none) freezes the service without adding a name.
 */
export async function loadGateStates() {
  const body = await getOptionalJson('/api/v1/gate/freezes');
  const states = new Map();
  for (const freeze of body?.freezes ?? []) {
    const state = states.get(freeze.service) ?? {
      frozen: false,
      environments: [],
      changedAt: freeze.changed_at,
    };
    if (freeze.frozen) {
      state.frozen = true;
      if (freeze.environment) state.environments.push(freeze.environment);
    }
    if (freeze.changed_at > state.changedAt) state.changedAt = freeze.changed_at;
    states.set(freeze.service, state);
  }
  return states;
}
