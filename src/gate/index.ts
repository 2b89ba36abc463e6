import type { SloRegistry } from '../definitions/registry.js';
import type { SloEvaluator } from '../evaluate/scheduler.js';
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

export interface GateParts {
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
  registry: () => SloRegistry;
  policies: () => GatePolicies;
}): GateParts {
  const { db, buckets, evaluator, storage, registry, policies } = parts;
  const decisions = new GateDecisionStore(db);
  const deploymentStore = new DeploymentStore(db);
  const overrideStore = new GateOverrideStore(db);
  const gate = new DeployGate(evaluator, registry, policies, {
    decisions,
    freezes: new GateFreezeStore(db),
    overrides: overrideStore,
    deployments: deploymentStore,
    ...(storage && { storage }),
  });
  evaluator.onEvaluated(() => gate.refreshFreezes());
  return {
    gate,
    decisions,
    overrides: new GateOverrides(overrideStore, gate, (service) => registry().byService.has(service)),
    deployments: new Deployments(deploymentStore, buckets, evaluator, registry),
    evaluations: new GateEvaluations(new GateEvaluationStore(db), gate, gateAnswer),
  };
}
