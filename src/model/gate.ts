import type { Ownership } from './slo.js';
import type { SloStatus } from './status.js';
import type { TimeWindow } from './timeWindow.js';

export const CHANGE_TYPES = ['feature', 'rollback', 'hotfix', 'security', 'config'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** A calendar change freeze of a GatePolicy. */
export interface ChangeFreeze {
  name: string;
  reason?: string;
  window: TimeWindow;
}

/** A change freeze in force, and until when. */
export interface ActiveChangeFreeze {
  name: string;
  reason?: string;
  startMs: number;
  endMs: number;
}

/** The rules for one service in one environment, every default filled in. Ratios, not percents. */
export interface ResolvedPolicy {
  /** The GatePolicy it came from, or null for the documented defaults. */
  name: string | null;
  service: string;
  environment: string | null;
  /** SLO names that count, or 'all' of the service's. */
  slos: 'all' | string[];
  warnBelow: number;
  recoveryMargin: number;
  mode: 'enforce' | 'observe';
  onNoData: 'deny' | 'allow' | 'warn';
  /** What an SLO whose window holds too few events to judge its budget does to the decision. */
  onInsufficientData: 'deny' | 'allow' | 'warn';
  /** Overrides every counted SLO's minimum of valid events (its own, or one allowed bad event); unset keeps them. */
  minValidEvents: number | null;
  denyOnPageAlert: boolean;
  /** Change types that pass a frozen gate. */
  exempt: readonly ChangeType[];
  /** Calendar change freezes of this environment (or the policy's defaults). */
  changeFreezes: ChangeFreeze[];
}

export type Decision = 'allow' | 'warn' | 'deny' | 'error';

/** What CI asks: may this service ship now? */
export interface GateRequest {
  service: string;
  environment?: string;
  version?: string;
  changeType: ChangeType;
  runUrl?: string;
  /** Flagger's canary checksum: the same value again is a repeat of the same rollout. */
  checksum?: string;
  /** When the change was committed (`commit_at`): the release marker keeps it for the lead time. */
  commitAtMs?: number;
}

/** A break-glass override in force for the request's scope. */
export interface ActiveOverride {
  id: string;
  actor: string;
  reason: string;
  ticket: string;
  expiresAtMs: number;
}

/** Everything a decision depends on; the gate gathers it, `decideGate` judges it without I/O. */
export interface GateInputs {
  request: GateRequest;
  policy: ResolvedPolicy;
  /** How many SLOs the policy counts for the service (statuses may be fewer before the first evaluation). */
  countedSlos: number;
  statuses: readonly SloStatus[];
  /** Names of statuses the evaluator has not refreshed in time. */
  staleSlos: ReadonlySet<string>;
  /**
   * Names of statuses the last run stored, judged on their numbers until this process has evaluated (the
   * answer is marked stale and `from_last_run`).
   */
  lastRunSlos?: ReadonlySet<string>;
  /** The freeze remembered for this service and environment before this decision. */
  frozen: boolean;
  override: ActiveOverride | null;
  /** A calendar change freeze of the policy in force now, or null. */
  changeFreeze?: ActiveChangeFreeze | null;
  /** The runbook and owner of the service's SLOs: a deny names them, so whoever is blocked knows where to go. */
  ownership?: Ownership;
}

export interface GateVerdict {
  decision: Decision;
  reason: string;
  statuses: SloStatus[];
  stale: boolean;
  /** Some statuses are the last run's, loaded at start: this process has not finished an evaluation yet. */
  fromLastRun: boolean;
  mode: 'enforce' | 'observe';
  /** The policy itself denies (the answer may still allow: observe mode, an exemption or an override). */
  wouldBlock: boolean;
  exemption: ChangeType | null;
  /** Set only when the override changed the answer. */
  override: ActiveOverride | null;
  /** The freeze after this decision: set on an exhausted budget, lifted past the recovery margin. */
  frozen: boolean;
}

/** A verdict with its identity, as stored in the audit trail and answered to CI. */
export interface GateDecision extends GateVerdict {
  id: string;
  decidedAtMs: number;
  request: GateRequest;
  policy: ResolvedPolicy;
}
