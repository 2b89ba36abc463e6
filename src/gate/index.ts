import type { GateRetention } from '../config/config.js';
import type { SloRegistry } from '../definitions/registry.js';
import type { SloEvaluator } from '../schedule/scheduler.js';
import type { BucketStore } from '../store/buckets.js';
import type { Db } from '../store/database.js';
import { DeploymentStore } from '../store/deployments.js';
import type { StorageWatch } from '../store/faults.js';
import { GateDecisionStore } from '../store/gateDecisions.js';
import { GateEvaluationStore } from '../store/gateEvaluations.js';
import { GateFreezeStore } from '../store/gateFreezes.js';
import { GateOverrideStore } from '../store/gateOverrides.js';
import { gateAnswer } from './answer.js';
import { Deployments } from './deployments.js';
import { GateEvaluations } from './evaluations.js';
import { DeployGate } from './gate.js';
import { GateOverrides } from './overrides.js';
import type { GatePolicies } from './policy.js';

/** What one retention pass removed. */
export interface GateStateRemoved {
  decisions: number;
  inputs: number;
  deployments: number;
  scopes: number;
}

export interface GateParts {
  /** Drops gate state past its retention or cap (hourly, and at start). */
  pruneGateState(nowMs: number): GateStateRemoved;
  gate: DeployGate;
  decisions: GateDecisionStore;
  overrides: GateOverrides;
  deployments: Deployments;
  evaluations: GateEvaluations;
}

/** Wires the deploy gate and its companions over one database; freezes follow every evaluation tick. */
export function createGate(parts: {
  db: Db;
  buckets: BucketStore;
  evaluator: SloEvaluator;
  storage?: StorageWatch;
  retention: GateRetention;
  registry: () => SloRegistry;
  policies: () => GatePolicies;
}): GateParts {
  const { db, buckets, evaluator, storage, retention, registry, policies } = parts;
  const days = (count: number) => count * 86_400_000;
  const decisions = new GateDecisionStore(db);
  const deploymentStore = new DeploymentStore(db);
  const overrideStore = new GateOverrideStore(db);
  const freezes = new GateFreezeStore(db, retention.maxEnvironments);
  const gate = new DeployGate(evaluator, registry, policies, {
    decisions,
    freezes,
    overrides: overrideStore,
    deployments: deploymentStore,
    ...(storage && { storage }),
  });
  evaluator.onEvaluated(() => gate.refreshFreezes());
  return {
    pruneGateState: (nowMs) => ({
      ...decisions.prune(nowMs - days(retention.decisionRetentionDays), retention.maxDecisions),
      deployments: deploymentStore.prune(
        nowMs - days(retention.deploymentRetentionDays),
        retention.maxDeployments,
      ),
      scopes: freezes.prune(nowMs - days(retention.scopeRetentionDays)),
    }),
    gate,
    decisions,
    overrides: new GateOverrides(overrideStore, gate, (service) => registry().byService.has(service)),
    deployments: new Deployments(deploymentStore, buckets, evaluator, registry),
    evaluations: new GateEvaluations(new GateEvaluationStore(db), gate, gateAnswer),
  };
}
