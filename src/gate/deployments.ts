import { randomUUID } from 'node:crypto';
import type { CurrentRegistry } from '../definitions/registry.js';
import { eventCounts } from '../evaluate/inputs.js';
import { selectedSeries } from '../evaluate/select.js';
import type { ChangeType } from '../model/gate.js';
import type { SloDefinition } from '../model/slo.js';
import type { EventCounts } from '../model/status.js';
import type { SloEvaluator } from '../schedule/scheduler.js';
import { countKeyOf } from '../sources/store/counts.js';
import type { BucketStore } from '../store/buckets.js';
import type { Deployment, DeploymentStore } from '../store/deployments.js';

/** The periods after a release the seed asks about: most outages follow a change within them. */
export const IMPACT_PERIODS = { '1h': 3_600_000, '1d': 86_400_000 } as const;
export type ImpactPeriod = keyof typeof IMPACT_PERIODS;

export interface PeriodImpact {
  valid: number;
  bad: number;
  /** Bad events above the error ratio already running when the release went out: what it is charged with. */
  chargedBad: number;
  /** That error ratio: of the hour before the release, or since the release before it if that was later. */
  baselineErrorRatio: number;
  /** Share of the SLO's current error budget the release burned in the period (0.1 = 10%); null without a budget. */
  budgetBurned: number | null;
  /** False while the period is still running. */
  complete: boolean;
}

export interface SloImpact {
  slo: string;
  periods: Record<ImpactPeriod, PeriodImpact>;
}

/**
 * Bad events of a period as a share of the budget the SLO window allows, charging the release only for burn
 * that began after it: errors at the rate already running before it (a rollback's, from the release it
 * rolls back) are not its doing. Pure.
 */
export function periodImpact(
  counts: EventCounts,
  allowedBad: number | null,
  complete: boolean,
  baselineErrorRatio = 0,
): PeriodImpact {
  const bad = counts.valid - counts.good;
  const chargedBad = Math.max(0, bad - counts.valid * baselineErrorRatio);
  return {
    valid: counts.valid,
    bad,
    chargedBad,
    baselineErrorRatio,
    budgetBurned: allowedBad !== null && allowedBad > 0 ? chargedBad / allowedBad : null,
    complete,
  };
}

/** Before a release, how far back its baseline error ratio looks (at most: back to the release before it). */
const BASELINE_MS = 3_600_000;

export interface DeploymentInput {
  service: string;
  environment?: string;
  version: string;
  deployedAtMs: number;
  decisionId?: string;
  changeType?: ChangeType;
  commitAtMs?: number;
}

/**
 * An SLO's events over [fromMs, toMs) from where it is read with PromQL (its own queries, or its engine's);
 * `undefined` for an SLO whose series this process keeps.
 */
export type PeriodCounts = (
  definition: SloDefinition,
  fromMs: number,
  toMs: number,
) => Promise<EventCounts> | undefined;

/** Deployment markers and what each cost: the budget burned in the hour and the day after it. */
export class Deployments {
  constructor(
    private readonly store: DeploymentStore,
    private readonly buckets: BucketStore,
    private readonly evaluator: SloEvaluator,
    /** The definition set in force (a reload swaps it). */
    private readonly definitions: CurrentRegistry,
    private readonly promQlCounts: PeriodCounts = () => undefined,
  ) {}

  record(input: DeploymentInput): Deployment {
    return this.store.record({
      id: randomUUID(),
      service: input.service,
      environment: input.environment ?? '',
      version: input.version,
      deployedAtMs: input.deployedAtMs,
      decisionId: input.decisionId ?? null,
      ...(input.changeType && { changeType: input.changeType }),
      ...(input.commitAtMs !== undefined && { commitAtMs: input.commitAtMs }),
    });
  }

  list(query: { service?: string; fromMs?: number; toMs?: number; limit: number }): Deployment[] {
    return this.store.list(query);
  }

  /**
   * Per SLO of the deployment's service, the events and budget of the hour and the day after it; an engine
   * that does not answer rejects with its PromQlError.
   */
  impact(deployment: Deployment, nowMs = Date.now()): Promise<SloImpact[]> {
    const series = this.buckets.seriesReader();
    const [previous] = this.store
      .list({
        service: deployment.service,
        fromMs: deployment.deployedAtMs - BASELINE_MS,
        toMs: deployment.deployedAtMs,
        limit: 20,
      })
      .filter((d) => d.environment === deployment.environment && d.id !== deployment.id);
    const baselineFromMs = previous ? previous.deployedAtMs : deployment.deployedAtMs - BASELINE_MS;
    const definitions = this.definitions.registry.byService.get(deployment.service) ?? [];
    return Promise.all(
      definitions.map(async (definition: SloDefinition) => {
        const ids = selectedSeries(definition, series).map((row) => row.id);
        const key = countKeyOf(definition.indicator);
        const allowedBad = this.evaluator.status(definition.name)?.budget.allowed ?? null;
        const count = async (fromMs: number, toMs: number) =>
          (await this.promQlCounts(definition, fromMs, toMs)) ??
          eventCounts(definition, this.buckets.windowCounts(ids, fromMs, toMs, key));
        const before = await count(baselineFromMs, deployment.deployedAtMs);
        const baseline = before.valid > 0 ? (before.valid - before.good) / before.valid : 0;
        const periods = {} as Record<ImpactPeriod, PeriodImpact>;
        for (const [name, ms] of Object.entries(IMPACT_PERIODS) as Array<[ImpactPeriod, number]>) {
          const end = Math.min(deployment.deployedAtMs + ms, nowMs);
          const counts =
            end > deployment.deployedAtMs
              ? await count(deployment.deployedAtMs, end)
              : { good: 0, valid: 0, errorBound: 0 };
          periods[name] = periodImpact(counts, allowedBad, nowMs >= deployment.deployedAtMs + ms, baseline);
        }
        return { slo: definition.name, periods };
      }),
    );
  }
}
