import { type SloDefinition, seriesKeptLocally } from '../model/slo.js';
import type { SloStatus } from '../model/status.js';
import type { Deployment } from '../store/deployments.js';
import { isoTime } from './time.js';

/** An SloStatus as the API shows it (snake_case, ISO times). */
export function statusView(status: SloStatus, stale: boolean) {
  return {
    name: status.name,
    service: status.service,
    indicator: status.indicator,
    objective: status.objective,
    objective_percent: status.objectivePercent,
    window: status.window,
    window_start: isoTime(status.windowStartMs),
    /** Calendar windows: where the current period ends (null for rolling windows). */
    window_end: isoTime(status.windowEndMs),
    budgeting: status.budgeting ?? 'occurrences',
    /** Timeslices and ratio-timeslices: the slices judged (then `sli` and `budget` count slices). */
    slices: status.slices
      ? {
          slice_seconds: status.slices.sliceSeconds,
          total: status.slices.total,
          valid: status.slices.valid,
          good: status.slices.good,
          bad: status.slices.bad,
          ratio_sum: status.slices.ratioSum,
        }
      : null,
    warnings: status.warnings ?? [],
    state: status.state,
    /** Valid events the window needs before its budget is judged; `enough_data` says whether it has them. */
    min_valid_events: status.minValidEvents,
    enough_data: status.enoughData,
    sli: status.sli,
    sli_error_bound: status.sliErrorBound,
    good: status.good,
    valid: status.valid,
    budget: {
      allowed: status.budget.allowed,
      consumed: status.budget.consumed,
      remaining: status.budget.remaining,
      consumed_ratio: status.budget.consumedRatio,
      remaining_ratio: status.budget.remainingRatio,
      allowed_downtime_seconds: status.budget.allowedDowntimeSeconds,
    },
    burn_rates: status.burnRates,
    alerts: status.alerts.map((tier) => ({
      severity: tier.severity,
      long_window: tier.longWindow,
      short_window: tier.shortWindow,
      factor: tier.factor,
      long_burn_rate: tier.longBurnRate,
      short_burn_rate: tier.shortBurnRate,
      state: tier.state,
    })),
    firing: status.firing,
    time_to_exhaustion_seconds: status.timeToExhaustionSeconds,
    last_observation_at: isoTime(status.lastObservationMs),
    evaluated_at: isoTime(status.evaluatedAtMs),
    stale,
    /** Why the SLO's source could not be read (a Prometheus engine down or slow), when that is the cause. */
    ...(status.staleReason !== undefined && { stale_reason: status.staleReason }),
  };
}

/**
 * What an SLO's definition says about it, beside its status: how people name it, its labels, and who to call
 * (runbook and owner: the SLO's own, else its service's GatePolicy's). Null or empty for an SLO not loaded.
 */
export function sloInfoView(definition: SloDefinition | undefined) {
  return {
    display_name: definition?.displayName ?? null,
    description: definition?.description ?? null,
    labels: definition?.labels ?? {},
    runbook: definition?.runbook ?? null,
    owner: definition?.owner ?? null,
  };
}

/** Whether `GET /api/v1/slos/:name/breakdown` can rank the SLO's series (not for SLOs read with PromQL). */
export function breakdownView(definition: SloDefinition | undefined) {
  return { breakdown_available: definition !== undefined && seriesKeptLocally(definition) };
}

/** A composite's components, each with its weight (a share) and its own SLO's latest status, if it has one. */
export function componentsView(
  definition: SloDefinition | undefined,
  statusOf: (name: string) => SloStatus | undefined,
  definitionOf: (name: string) => SloDefinition | undefined,
) {
  if (!definition?.composite) return null;
  return definition.composite.components.map((component) => {
    const status = statusOf(component.name);
    return {
      name: component.name,
      display_name: definitionOf(component.name)?.displayName ?? null,
      weight: component.weight,
      objective: component.objective,
      sli: status?.sli ?? null,
      budget_remaining: status?.budget.remainingRatio ?? null,
      state: status?.state ?? null,
    };
  });
}

/** A release marker as the API shows it (deployments, incidents). */
export function deploymentView(d: Deployment) {
  return {
    id: d.id,
    service: d.service,
    environment: d.environment || null,
    version: d.version,
    deployed_at: isoTime(d.deployedAtMs),
    decision_id: d.decisionId,
    source: d.source,
    change_type: d.changeType,
    commit_at: isoTime(d.commitAtMs),
  };
}
