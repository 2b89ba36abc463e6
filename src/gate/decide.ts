import type { SloStatus } from '../evaluate/status.js';

export const CHANGE_TYPES = ['feature', 'rollback', 'hotfix', 'security', 'config'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export type Decision = 'allow' | 'warn' | 'deny' | 'error';

/** What CI asks: may this service ship now? */
export interface GateRequest {
  service: string;
  environment?: string;
  version?: string;
  changeType: ChangeType;
  runUrl?: string;
}

export interface GateVerdict {
  decision: Decision;
  reason: string;
  /** The statuses the verdict is based on. */
  statuses: SloStatus[];
  stale: boolean;
}

const percent = (ratio: number | null, digits = 3): string =>
  ratio === null ? 'n/a' : `${(ratio * 100).toFixed(digits)}%`;

function exhaustedReason(status: SloStatus): string {
  return `${status.name} has exhausted its error budget (SLI ${percent(status.sli)} vs objective ${status.objectivePercent}%, budget remaining ${percent(status.budget.remainingRatio, 1)} over ${status.window})`;
}

/**
 * The foundation's policy, as the seed states it: while budget remains, ship; when an SLO of the service
 * has spent its budget, deny. SLOs with no data yet warn. Pure: statuses in, verdict out.
 */
export function decideGate(
  request: GateRequest,
  statuses: readonly SloStatus[],
  definedSlos: number,
  isStale: (status: SloStatus) => boolean,
): GateVerdict {
  const stale = statuses.some(isStale);
  const base = { statuses: [...statuses], stale };
  if (definedSlos === 0) {
    return { ...base, decision: 'error', reason: `no SLO is defined for service "${request.service}"` };
  }
  if (statuses.length < definedSlos) {
    return {
      ...base,
      decision: 'error',
      reason: `the SLOs of "${request.service}" have not been evaluated yet`,
    };
  }
  const staleNote = stale ? ' (statuses are stale: the evaluator is behind)' : '';
  const exhausted = statuses.filter((s) => s.state === 'exhausted');
  if (exhausted.length > 0) {
    return { ...base, decision: 'deny', reason: exhausted.map(exhaustedReason).join('; ') + staleNote };
  }
  const noData = statuses.filter((s) => s.state === 'no-data');
  if (noData.length > 0) {
    return {
      ...base,
      decision: 'warn',
      reason: `no data yet for ${noData.map((s) => s.name).join(', ')}${staleNote}`,
    };
  }
  const lowest = statuses.reduce((min, s) => Math.min(min, s.budget.remainingRatio ?? 1), 1);
  return {
    ...base,
    decision: 'allow',
    reason: `all ${statuses.length} SLOs of ${request.service} are within budget (lowest remaining ${percent(lowest, 1)})${staleNote}`,
  };
}
