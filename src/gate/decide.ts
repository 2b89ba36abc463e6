import { fixedText, percentText } from '../evaluate/numbers.js';
import { judgedAgainst } from '../evaluate/status.js';
import type { ActiveOverride, ChangeType, Decision, GateInputs, GateVerdict } from '../model/gate.js';
import type { Ownership } from '../model/slo.js';
import type { SloStatus } from '../model/status.js';

const lowestRemaining = (statuses: readonly SloStatus[]): number | null =>
  statuses.reduce<number | null>((min, s) => {
    const r = s.budget.remainingRatio;
    return r === null ? min : min === null ? r : Math.min(min, r);
  }, null);

/**
 * Freeze hysteresis: an exhausted budget freezes; the freeze lifts only once every counted SLO has more than
 * `recoveryMargin` of its budget left (an SLO without data has not shown it recovered), so the gate does not
 * flap open and shut around zero.
 */
export function nextFreeze(frozen: boolean, statuses: readonly SloStatus[], recoveryMargin: number): boolean {
  if (statuses.some((s) => s.state === 'exhausted')) return true;
  if (!frozen) return false;
  return !statuses.every((s) => s.budget.remainingRatio !== null && s.budget.remainingRatio > recoveryMargin);
}

function exhaustedReason(status: SloStatus): string {
  return `${status.name} has exhausted its error budget (SLI ${percentText(status.sli, 3)} vs objective ${status.objectivePercent}%, budget remaining ${percentText(status.budget.remainingRatio)} over ${status.window})`;
}

function firingReason(status: SloStatus, severity: 'page' | 'ticket'): string {
  const tier = status.alerts.find((t) => t.state === 'firing' && t.severity === severity);
  const burn = tier
    ? ` (burn rate ${fixedText(tier.longBurnRate, 1)} over ${tier.longWindow} and ${fixedText(tier.shortBurnRate, 1)} over ${tier.shortWindow}, threshold ${fixedText(tier.factor, 1)})`
    : '';
  return `${status.name} is burning its budget fast: ${severity}-tier alert firing${burn}`;
}

/** What the policy finds, before observe mode, exemptions and overrides. */
function judge(inputs: GateInputs, frozen: boolean): { deny: string[]; warn: string[]; allow: string[] } {
  const { policy, statuses, staleSlos } = inputs;
  const deny: string[] = [];
  const warn: string[] = [];
  const allow: string[] = [];
  const calendar = inputs.changeFreeze;
  if (calendar) {
    deny.push(
      `change freeze "${calendar.name}" in force from ${new Date(calendar.startMs).toISOString()} until ${new Date(calendar.endMs).toISOString()}${calendar.reason ? ` (${calendar.reason})` : ''}`,
    );
  }
  const exhausted = statuses.filter((s) => s.state === 'exhausted');
  deny.push(...exhausted.map(exhaustedReason));
  if (frozen && exhausted.length === 0) {
    deny.push(
      `frozen since the error budget was exhausted: lowest remaining ${percentText(lowestRemaining(statuses))} must exceed the recovery margin ${percentText(policy.recoveryMargin, 0)} to lift`,
    );
  }
  for (const status of statuses) {
    if (status.firing === 'page' && policy.denyOnPageAlert) deny.push(firingReason(status, 'page'));
    else if (status.firing) warn.push(firingReason(status, status.firing));
  }
  const missing = statuses.filter((s) => s.state === 'no-data').map((s) => s.name);
  // A source that failed says why (engine down, timeout); otherwise the evaluator itself fell behind.
  const stale = statuses
    .filter((s) => staleSlos.has(s.name) && !missing.includes(s.name))
    .map((s) => `${s.name} (${s.staleReason ?? 'the evaluator is behind'})`);
  const noData = [
    ...(missing.length > 0 ? [`no data for ${missing.join(', ')}`] : []),
    ...(stale.length > 0 ? [`stale statuses for ${stale.join(', ')}`] : []),
  ];
  if (noData.length > 0) {
    const rule = `${noData.join('; ')} (on_no_data: ${policy.onNoData})`;
    ({ deny, warn, allow })[policy.onNoData].push(rule);
  }
  const few = statuses.filter((s) => s.state === 'insufficient-data');
  if (few.length > 0) {
    const counts = few.map((s) => `${s.name} (${s.valid} of ${s.minValidEvents} valid events)`).join(', ');
    const rule = `too few events to judge the error budget of ${counts} (on_insufficient_data: ${policy.onInsufficientData})`;
    ({ deny, warn, allow })[policy.onInsufficientData].push(rule);
  }
  const low = statuses.filter(
    (s) =>
      s.state !== 'exhausted' &&
      s.state !== 'insufficient-data' &&
      s.budget.remainingRatio !== null &&
      s.budget.remainingRatio < policy.warnBelow,
  );
  if (!frozen && low.length > 0) {
    warn.push(
      `${low.map((s) => `${s.name} has ${percentText(s.budget.remainingRatio)} of its error budget left`).join(', ')} (below ${percentText(policy.warnBelow, 0)})`,
    );
  }
  return { deny, warn, allow };
}

/**
 * The error-budget policy: while budget remains, ship; when it is gone (or a page-tier burn fires), stop
 * feature releases, with the exceptions the team agreed on. Pure: inputs in, verdict out. A verdict on
 * statuses the last run stored (before this process's first evaluation ends) is marked stale and says so.
 */
/** `; runbook https://… (owner team-x)`, or nothing when the service names neither. */
function ownershipNote(ownership: Ownership | undefined): string {
  if (!ownership?.runbook && !ownership?.owner) return '';
  const runbook = ownership.runbook ? `runbook ${ownership.runbook}` : '';
  const owner = ownership.owner ? `owner ${ownership.owner}` : '';
  return `; ${runbook && owner ? `${runbook} (${owner})` : runbook || owner}`;
}

export function decideGate(given: GateInputs): GateVerdict {
  const verdict = judgeVerdict(given);
  const lastRun = verdict.statuses.filter((s) => given.lastRunSlos?.has(s.name));
  if (lastRun.length === 0) return verdict;
  const oldest = Math.min(...lastRun.map((s) => s.evaluatedAtMs));
  // The verdict is this call's own: marked in place rather than copied (see verdictOf).
  verdict.stale = true;
  verdict.fromLastRun = true;
  verdict.reason = `${verdict.reason}; statuses from the last run at ${new Date(oldest).toISOString()} (the first evaluation since the start is under way)`;
  return verdict;
}

/** What every verdict over the same inputs shares, whatever it decides. */
interface VerdictBasis {
  statuses: readonly SloStatus[];
  stale: boolean;
  mode: GateVerdict['mode'];
  frozen: boolean;
}

/** Why a denying policy still let the change through, if it did. */
interface LetThrough {
  exemption?: ChangeType;
  override?: ActiveOverride;
}

/**
 * A verdict written field by field. The gate built its verdicts and decisions by spreading (`{ ...base,
 * decision }`), and at a thousand answers a second those objects outlived the young generation: about 0.5 KB
 * of each answer promoted to old space, all of it on the spreads in a heap profile, which set the pace of the
 * mark-compacts (issue #23). bench/spreadPromotion.mjs shows spread objects promoted in plain
 * Node where the same objects as literals are not.
 */
function verdictOf(
  basis: VerdictBasis,
  decision: Decision,
  reason: string,
  wouldBlock = false,
  letThrough?: LetThrough,
): GateVerdict {
  return {
    decision,
    reason,
    statuses: [...basis.statuses],
    stale: basis.stale,
    fromLastRun: false,
    mode: basis.mode,
    wouldBlock,
    exemption: letThrough?.exemption ?? null,
    override: letThrough?.override ?? null,
    frozen: basis.frozen,
  };
}

function judgeVerdict(given: GateInputs): GateVerdict {
  const { minValidEvents } = given.policy;
  const inputs =
    minValidEvents === null
      ? given
      : { ...given, statuses: given.statuses.map((s) => judgedAgainst(s, minValidEvents)) };
  const { request, policy, statuses, staleSlos, override } = inputs;
  const frozen = nextFreeze(inputs.frozen, statuses, policy.recoveryMargin);
  const basis: VerdictBasis = {
    statuses,
    stale: statuses.some((s) => staleSlos.has(s.name)),
    mode: policy.mode,
    frozen,
  };
  if (inputs.countedSlos === 0)
    return verdictOf(basis, 'error', `no SLO is defined for service "${request.service}"`);
  if (statuses.length < inputs.countedSlos)
    return verdictOf(basis, 'error', `the SLOs of "${request.service}" have not been evaluated yet`);
  const found = judge(inputs, frozen);
  if (found.deny.length > 0) {
    const why = found.deny.join('; ');
    if (policy.exempt.includes(request.changeType)) {
      return verdictOf(
        basis,
        'allow',
        `${request.changeType} changes are exempt from the freeze: ${why}`,
        true,
        { exemption: request.changeType },
      );
    }
    if (override) {
      return verdictOf(
        basis,
        'allow',
        `override ${override.id} by ${override.actor} (${override.ticket}: ${override.reason}) lets this through: ${why}`,
        true,
        { override },
      );
    }
    if (policy.mode === 'observe')
      return verdictOf(basis, 'allow', `observe mode: the policy would deny: ${why}`, true);
    return verdictOf(basis, 'deny', `${why}${ownershipNote(inputs.ownership)}`, true);
  }
  if (found.warn.length > 0) return verdictOf(basis, 'warn', found.warn.join('; '));
  const note = found.allow.length > 0 ? `; ${found.allow.join('; ')}` : '';
  return verdictOf(
    basis,
    'allow',
    `all ${statuses.length} SLOs of ${request.service} are within budget (lowest remaining ${percentText(lowestRemaining(statuses))})${note}`,
  );
}
