import { randomUUID } from 'node:crypto';
import type { SloRegistry } from '../definitions/registry.js';
import type { Decision, GateDecision, GateRequest, ResolvedPolicy } from '../model/gate.js';
import type { Ownership } from '../model/slo.js';
import type { SloStatus } from '../model/status.js';
import type { SloEvaluator } from '../schedule/scheduler.js';
import { runWhole, type SteppedWork } from '../schedule/slices.js';
import type { TrailQuery } from '../store/auditTrail.js';
import type { DeploymentStore } from '../store/deployments.js';
import { isStorageFault, type StorageWatch } from '../store/faults.js';
import type { GateDecisionRecord } from '../store/gateDecisions.js';
import { type FreezeScope, type FreezeState, freezeKey, type GateFreezeStore } from '../store/gateFreezes.js';
import type { GateOverride, GateOverrideStore } from '../store/gateOverrides.js';
import { decideGate, nextFreeze } from './decide.js';
import { timeOrderedId } from './ids.js';
import { activeChangeFreeze, type GatePolicies } from './policy.js';

/**
 * What the gate announces. Listeners (chat notifications of the alerting part, for one) subscribe with
 * `gate.on('override-created', ...)`; a listener that throws does not fail the request.
 */
export interface GateEvents {
  'override-created': GateOverride;
  'override-revoked': GateOverride;
  'freeze-changed': FreezeScope & { frozen: boolean; atMs: number };
  decision: GateDecision;
}

export function isAllowed(decision: Decision): boolean {
  return decision === 'allow' || decision === 'warn';
}

/** Freeze state and markers are kept per environment; '' stands for "none named". */
const scopeOf = (request: GateRequest): FreezeScope => ({
  service: request.service,
  environment: request.environment ?? '',
});

/** The definition set in force, read at every decision (a reload swaps it). */
export interface GateDefinitions {
  readonly registry: SloRegistry;
  readonly policies: GatePolicies;
}

/** Where a listener's failure is told (never the caller's error). */
export interface GateLog {
  warn(details: object, message: string): void;
}

/** The audit trail of decisions: this process's SQLite store, or the replicas' PostgreSQL. */
export interface DecisionTrail {
  /** Adds a decision; the freeze or thaw it made commits with it where the freezes are shared. */
  append(record: GateDecisionRecord, freeze?: FreezeState): void;
  /** Resolves once every decision appended so far is committed. */
  committed(): Promise<void>;
  list(query: TrailQuery): GateDecisionRecord[] | Promise<GateDecisionRecord[]>;
}

export interface GateStores {
  decisions: DecisionTrail;
  freezes: GateFreezeStore;
  overrides: GateOverrideStore;
  deployments: DeploymentStore;
  /** Whether the database file is still the one opened: a decision written into a deleted file is lost. */
  storage?: StorageWatch;
  /** Set when replicas share the gate's state (PostgreSQL): read afresh before each committed decision. */
  shared?: SharedGateState;
}

/**
 * The gate state other replicas change between two calls. Asynchronous (a database round trip), so only
 * `decideCommitted` reads it; its failure is answered like a storage fault.
 */
export interface SharedGateState {
  /** The newest override in force for a scope, as `GateOverrideStore.active` answers. */
  active(
    service: string,
    environment: string,
    sha: string | null,
    nowMs: number,
  ): Promise<GateOverride | undefined>;
  /** The scope's freeze as the replicas share it; undefined when none has recorded one. */
  freeze(scope: FreezeScope): Promise<FreezeState | undefined>;
  /**
   * Shares a freeze or thaw the lease holder's refresh made after a tick, without waiting (retried until
   * written). A decision's own change commits with its audit row instead (`DecisionTrail.append`).
   */
  shareFreeze(state: FreezeState): void;
}

const STRICTNESS = { allow: 0, warn: 1, deny: 2 } as const;

/**
 * The answer when the decision cannot be written to the audit trail (disk full, database file gone): the gate
 * answers as on missing data, by the policy's on_no_data, never looser than the verdict itself; a decision
 * it could not make ('error') stays one.
 */
export function unrecordedDecision(
  decision: GateDecision,
  error: unknown,
  failed = 'the decision cannot be recorded',
): GateDecision {
  const why = `${failed} (${error instanceof Error ? error.message : String(error)})`;
  const { onNoData } = decision.policy;
  if (decision.decision === 'error') return { ...decision, reason: `${decision.reason}; ${why}` };
  const stricter = STRICTNESS[onNoData] > STRICTNESS[decision.decision] ? onNoData : decision.decision;
  return {
    ...decision,
    decision: stricter,
    wouldBlock: decision.wouldBlock || stricter === 'deny',
    reason: `${why} (on_no_data: ${onNoData}); ${decision.reason}`,
  };
}

/** One decision for every caller: evaluates the policy over the latest statuses and records it. */
export class DeployGate {
  // Each event's list holds listeners of that event's signature (on() enforces it).
  private readonly listeners = new Map<keyof GateEvents, Array<(payload: never) => void>>();

  constructor(
    private readonly evaluator: SloEvaluator,
    private readonly definitions: GateDefinitions,
    private readonly stores: GateStores,
    private readonly log: GateLog,
  ) {}

  /** The statuses the policy counts for a service, and how many SLOs it counts. */
  private counted(policy: ResolvedPolicy): { statuses: SloStatus[]; count: number } {
    const names =
      policy.slos === 'all' ? (this.definitions.registry.byService.get(policy.service) ?? []) : policy.slos;
    const statuses: SloStatus[] = [];
    for (const slo of names) {
      const status = this.evaluator.status(typeof slo === 'string' ? slo : slo.name);
      if (status !== undefined) statuses.push(status);
    }
    return { statuses, count: names.length };
  }

  /**
   * Records the freeze of a scope (a first ask makes the scope known to `refreshFreezes`); a scope past the
   * per-service cap is not remembered, and announces nothing. Returns the state stored, if it changed.
   */
  private setFreeze(
    scope: FreezeScope,
    was: boolean | undefined,
    frozen: boolean,
    nowMs: number,
  ): FreezeState | undefined {
    if (was === frozen) return undefined;
    if (!this.stores.freezes.set(scope, frozen, nowMs)) return undefined;
    if ((was ?? false) !== frozen) this.emit('freeze-changed', { ...scope, frozen, atMs: nowMs });
    return { ...scope, frozen, changedAtMs: nowMs };
  }

  /** The first runbook and owner the service's SLOs name (each has its service's default when it names none). */
  private ownershipOf(service: string): Ownership {
    const definitions = this.definitions.registry.byService.get(service) ?? [];
    return {
      runbook: definitions.find((d) => d.runbook)?.runbook ?? null,
      owner: definitions.find((d) => d.owner)?.owner ?? null,
    };
  }

  /** The override in force for a request's scope in this process's own store (none without an environment). */
  private localOverride(request: GateRequest, nowMs: number): GateOverride | null {
    return request.environment
      ? (this.stores.overrides.active(request.service, request.environment, request.version ?? null, nowMs) ??
          null)
      : null;
  }

  /** A decision made and recorded over this process's state (the override given when read elsewhere). */
  decide(
    request: GateRequest,
    nowMs = Date.now(),
    override = this.localOverride(request, nowMs),
  ): GateDecision {
    const { decision, scope, known, frozen } = this.judge(request, nowMs, override);
    try {
      this.stores.storage?.assertWritable();
      this.record(decision, scope, known, frozen);
    } catch (error) {
      if (!isStorageFault(error)) throw error;
      return unrecordedDecision(decision, error);
    }
    this.emit('decision', decision);
    return decision;
  }

  /** The decision over the latest statuses and the given override, not yet recorded. */
  private judge(
    request: GateRequest,
    nowMs: number,
    override: GateOverride | null,
  ): { decision: GateDecision; scope: FreezeScope; known: boolean | undefined; frozen: boolean } {
    const policy = this.definitions.policies.resolve(request.service, request.environment ?? null);
    const { statuses, count } = this.counted(policy);
    const scope = scopeOf(request);
    const known = this.stores.freezes.isFrozen(scope);
    const frozen = known ?? false;
    // The last run's statuses are judged on their numbers while they are recent enough to trust.
    const staleSlos = new Set<string>();
    const lastRunSlos = new Set<string>();
    for (const s of statuses) {
      const fromLastRun = this.evaluator.isFromLastRun(s);
      if (fromLastRun) lastRunSlos.add(s.name);
      if (fromLastRun ? !this.evaluator.isTrustedFromLastRun(s, nowMs) : this.evaluator.isStale(s, nowMs))
        staleSlos.add(s.name);
    }
    const verdict = decideGate({
      request,
      policy,
      countedSlos: count,
      statuses,
      staleSlos,
      lastRunSlos,
      frozen,
      override,
      changeFreeze: activeChangeFreeze(policy.changeFreezes, nowMs),
      ownership: this.ownershipOf(request.service),
    });
    // Field by field, not `{ ...verdict }`: spread objects outlived the young generation (decide.ts verdictOf).
    const decision: GateDecision = {
      decision: verdict.decision,
      reason: verdict.reason,
      statuses: verdict.statuses,
      stale: verdict.stale,
      fromLastRun: verdict.fromLastRun,
      mode: verdict.mode,
      wouldBlock: verdict.wouldBlock,
      exemption: verdict.exemption,
      override: verdict.override,
      frozen: verdict.frozen,
      id: timeOrderedId(nowMs),
      decidedAtMs: nowMs,
      request,
      policy,
    };
    return { decision, scope, known, frozen };
  }

  /** The override in force for a request's scope as the replicas share it; rejects when it cannot be read. */
  private async sharedOverride(shared: SharedGateState, request: GateRequest, nowMs: number) {
    return request.environment
      ? ((await shared.active(request.service, request.environment, request.version ?? null, nowMs)) ?? null)
      : null;
  }

  /**
   * A decision answered only once the audit trail holds it, whichever route asks: decisions are committed in
   * groups after the turn of the event loop, and CI must never act on an answer the audit trail lost. One
   * that cannot be committed is answered by the no-data policy.
   */
  async decideCommitted(request: GateRequest, nowMs = Date.now()): Promise<GateDecision> {
    const { shared } = this.stores;
    if (shared) return this.decideShared(shared, request, nowMs);
    const decision = this.decide(request, nowMs);
    try {
      await this.stores.decisions.committed();
    } catch (error) {
      if (!isStorageFault(error)) throw error;
      return unrecordedDecision(decision, error);
    }
    return decision;
  }

  /**
   * `decideCommitted` when replicas share the gate's state: the scope's override and freeze are read afresh
   * first, and a freeze or thaw the decision makes commits with its audit row, before the answer. Every
   * failure of the shared database (connection, timeout) is answered like a storage fault.
   */
  private async decideShared(
    shared: SharedGateState,
    request: GateRequest,
    nowMs: number,
  ): Promise<GateDecision> {
    const scope = scopeOf(request);
    let override: GateOverride | null;
    try {
      const [found, freeze] = await Promise.all([
        this.sharedOverride(shared, request, nowMs),
        shared.freeze(scope),
      ]);
      override = found;
      // Another replica may have frozen or thawed the scope since this one last heard: the hysteresis carries
      // on from the shared state.
      if (freeze) this.stores.freezes.set(scope, freeze.frozen, freeze.changedAtMs);
    } catch (error) {
      // Without the override and freeze in force the gate cannot decide for sure: answered as on missing data.
      return unrecordedDecision(
        this.judge(request, nowMs, null).decision,
        error,
        'the gate state cannot be read',
      );
    }
    const before = this.stores.freezes.state(scope);
    const decision = this.decide(request, nowMs, override);
    const made = this.stores.freezes.state(scope);
    try {
      await this.stores.decisions.committed();
    } catch (error) {
      // Its freeze change was not committed either: this replica's copy forgets it too, unless a later
      // change has replaced it meanwhile.
      if (made !== before && this.stores.freezes.state(scope) === made)
        this.stores.freezes.restore(scope, before);
      return unrecordedDecision(decision, error);
    }
    return decision;
  }

  /** Writes a decision's freeze, audit row and release marker. */
  private record(
    decision: GateDecision,
    scope: FreezeScope,
    known: boolean | undefined,
    frozen: boolean,
  ): void {
    const { request, policy, decidedAtMs: nowMs } = decision;
    // A service without SLOs has no budget to freeze on: asking about it leaves no scope behind.
    const freeze = this.definitions.registry.byService.has(request.service)
      ? this.setFreeze(scope, known, decision.frozen, nowMs)
      : undefined;
    this.stores.decisions.append(
      {
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
          mode: decision.mode,
          would_block: decision.wouldBlock,
          exemption: decision.exemption,
          override: decision.override,
          frozen_before: frozen,
          frozen: decision.frozen,
          stale: decision.stale,
          from_last_run: decision.fromLastRun,
          policy,
        },
        statuses: decision.statuses,
      },
      freeze,
    );
    const release = request.version ?? request.checksum;
    if (isAllowed(decision.decision) && release) {
      this.stores.deployments.mark({
        id: randomUUID(),
        service: request.service,
        environment: scope.environment,
        version: release,
        deployedAtMs: nowMs,
        decisionId: decision.id,
        changeType: request.changeType,
        commitAtMs: request.commitAtMs ?? null,
      });
    }
  }

  /**
   * Carries every remembered freeze (and the environments policies name) forward after an evaluation tick, so
   * a budget that is exhausted and recovers while nobody asks the gate still has to pass the recovery margin.
   * The scopes are bounded by the per-service cap, however many environments callers name. Returns how many
   * scopes it checked.
   */
  refreshFreezes(nowMs = Date.now()): number {
    const scopes = this.knownScopes();
    runWhole(this.refreshScopes(scopes, this.definitions.policies, nowMs));
    return scopes.length;
  }

  /**
   * refreshFreezes as steps, one scope a step, for a tick to run in slices (1,000 services held the loop 9-79 ms
   * in one piece, docs/benchmarks.md). A gate request between two steps decides on the new statuses all the same: its own
   * scope's freeze is computed from them and its stored state, refreshed yet or not (which this refresh reads
   * again when it comes to that scope); only the freezes listed by the API may show some scopes a tick behind
   * until the last step. The scopes and policies are those in force when the refresh began: a reload's set
   * applies from the tick it asks for.
   */
  *refreshFreezesInSteps(nowMs = Date.now()): SteppedWork {
    yield* this.refreshScopes(this.knownScopes(), this.definitions.policies, nowMs);
  }

  /** The scopes a refresh carries forward: every remembered one, and those the policies name. */
  private knownScopes(): FreezeScope[] {
    const scopes = new Map<string, FreezeScope>(this.stores.freezes.scopes().map((s) => [freezeKey(s), s]));
    const { registry, policies } = this.definitions;
    for (const service of registry.byService.keys()) {
      const environments = policies.environmentsOf(service);
      for (const environment of environments.length > 0 ? environments : ['']) {
        const named = { service, environment };
        scopes.set(freezeKey(named), named);
      }
    }
    return [...scopes.values()];
  }

  /** Carries each scope's freeze forward, a step before each (listing the scopes is a step of its own). */
  private *refreshScopes(scopes: readonly FreezeScope[], policies: GatePolicies, nowMs: number): SteppedWork {
    for (const scope of scopes) {
      yield;
      const policy = policies.resolve(scope.service, scope.environment || null);
      const { statuses } = this.counted(policy);
      const was = this.stores.freezes.isFrozen(scope);
      const frozen = nextFreeze(was ?? false, statuses, policy.recoveryMargin);
      // A service whose policy names no environment is followed in its '' scope, remembered once it freezes:
      // the overview shows it frozen at once, not only after someone asks the gate.
      if (was === undefined && !frozen && scope.environment === '') continue;
      const changed = this.setFreeze(scope, was, frozen, nowMs);
      if (changed) this.stores.shared?.shareFreeze(changed);
    }
  }

  /** Every scope the gate knows, frozen or open, with when that last changed. */
  freezes(service?: string): FreezeState[] {
    return this.stores.freezes.list(service);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof GateEvents>(event: E, listener: (payload: GateEvents[E]) => void): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    return () => list.splice(list.indexOf(listener), 1);
  }

  /** Listeners are told after the fact; their failures are logged as warnings, never the caller's error. */
  emit<E extends keyof GateEvents>(event: E, payload: GateEvents[E]): void {
    const list = (this.listeners.get(event) ?? []) as Array<(payload: GateEvents[E]) => void>;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (error) {
        this.log.warn({ err: error, event }, `gate listener for "${event}" failed`);
      }
    }
  }
}
