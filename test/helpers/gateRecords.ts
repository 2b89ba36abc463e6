import { GatePolicies } from '../../src/gate/policy.js';
import type { SloStatus } from '../../src/model/status.js';
import type { GateDecisionRecord } from '../../src/store/gateDecisions.js';

/**
 * An "allow" decision as the gate records it in production: an answer of about 600 bytes holding the resolved
 * policy of `service` in production, made on `statuses`.
 */
export function allowRecord(
  id: string,
  decidedAtMs: number,
  service: string,
  statuses: readonly SloStatus[],
) {
  const reason = `all ${statuses.length} SLOs within budget`;
  return {
    id,
    decidedAtMs,
    service,
    environment: 'production',
    version: 'v1',
    changeType: 'feature',
    decision: 'allow',
    reason,
    request: { service, environment: 'production', version: 'v1', changeType: 'feature' },
    answer: {
      decision: 'allow',
      reason,
      mode: 'enforce',
      would_block: false,
      exemption: null,
      override: null,
      frozen_before: false,
      frozen: false,
      stale: false,
      from_last_run: false,
      policy: new GatePolicies().resolve(service, 'production'),
    },
    statuses,
  } satisfies GateDecisionRecord;
}
