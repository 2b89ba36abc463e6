import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { formatDuration, parseDuration } from '../../config/duration.js';
import type { CurrentRegistry } from '../../definitions/registry.js';
import { clip } from '../../definitions/timeWindows.js';
import { correctionIntervals } from '../../evaluate/corrections.js';
import { burnWindows } from '../../evaluate/math.js';
import { stepCoverage } from '../../evaluate/stepCoverage.js';
import { firingEpisodes, stepRangeProblem } from '../../evaluate/timeseries.js';
import type { Deployments } from '../../gate/deployments.js';
import type { DecisionTrail } from '../../gate/gate.js';
import { acceptedRange, type TimePolicy } from '../../ingest/timeRange.js';
import type { AlertEpisode } from '../../model/alert.js';
import { binUpperBound } from '../../model/histogram.js';
import type { PromQlIndicator } from '../../model/promql.js';
import { type SloDefinition, seriesKeptLocally } from '../../model/slo.js';
import { promQlTimeseries } from '../../sources/promql/history.js';
import { SloHistoryReader } from '../../sources/store/history.js';
import type { AlertEpisodeStore } from '../../store/alertEpisodes.js';
import type { BucketStore } from '../../store/buckets.js';
import type { CorrectionStore } from '../../store/corrections.js';
import type { TimelineStore } from '../../store/timeline.js';
import { engineAnswer, HttpError } from '../errors.js';
import { SloTimeseries } from '../schemas/slos.js';
import { isoTime, parseTimeParam } from '../time.js';

/** Steps a chart may pick by itself: the smallest that keeps the range under MAX_AUTO_POINTS points. */
const AUTO_STEPS_MS = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 86_400_000];
const MAX_AUTO_POINTS = 720;
const MAX_DEPLOYMENTS = 200;

function stepParam(text: string | undefined, rangeMs: number): number {
  if (text === undefined || text === '') {
    return AUTO_STEPS_MS.find((ms) => rangeMs / ms <= MAX_AUTO_POINTS) ?? AUTO_STEPS_MS.at(-1)!;
  }
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < 60_000) {
    throw new HttpError(
      400,
      'invalid_query',
      `step must be a duration of at least 1m (or seconds), got "${text}"`,
      'step',
    );
  }
  return ms;
}

const openAlertView = (episode: AlertEpisode | undefined) =>
  episode
    ? {
        id: episode.id,
        level: episode.level,
        notified_level: episode.notifiedLevel,
        started_at: isoTime(episode.startedAtMs),
      }
    : null;

/** An SLO over time for the dashboard's charts: SLI, budget, burn rates and traffic per step. */
export interface TimeseriesParts {
  definitions: CurrentRegistry;
  buckets: BucketStore;
  timeline: TimelineStore;
  deployments: Deployments;
  decisions: DecisionTrail;
  /** The open episode the alerting keeps (it stores no closed ones): when the page or ticket really went out. */
  alertEpisodes: AlertEpisodeStore;
  times: TimePolicy;
  corrections: CorrectionStore;
  /** The queries a chart of an SLO asks an engine, per indicator, when it is read from one (default: its own PromQL). */
  chartQueries?: (definition: SloDefinition) => PromQlIndicator[] | undefined;
}

const timeseries: FastifyPluginAsyncTypebox<TimeseriesParts> = async (app, options) => {
  const { definitions, buckets, timeline, deployments, decisions, alertEpisodes, times, corrections } =
    options;
  const chartQueries =
    options.chartQueries ??
    ((definition) => (definition.indicator.prometheus ? [definition.indicator.prometheus] : undefined));
  const history = new SloHistoryReader(buckets, timeline);

  app.get(
    '/api/v1/slos/:name/timeseries',
    {
      config: { access: 'read' },
      schema: {
        params: Type.Object({ name: Type.String() }),
        querystring: Type.Object({
          from: Type.Optional(Type.String()),
          to: Type.Optional(Type.String()),
          step: Type.Optional(Type.String()),
        }),
        response: SloTimeseries,
      },
    },
    async (request) => {
      const definition = definitions.registry.byName.get(request.params.name);
      if (!definition) throw new HttpError(404, 'not_found', `no SLO named "${request.params.name}"`, 'name');
      const nowMs = Date.now();
      const accepted = acceptedRange(times, nowMs);
      const toMs = parseTimeParam('to', request.query.to, accepted) ?? nowMs;
      const fromMs =
        parseTimeParam('from', request.query.from, accepted) ??
        Math.max(accepted.fromMs, toMs - definition.windowMs);
      if (fromMs >= toMs) throw new HttpError(400, 'invalid_query', 'from must be before to', 'from');
      const stepMs = stepParam(request.query.step, toMs - fromMs);
      const problem = stepRangeProblem({ fromMs, toMs, stepMs });
      if (problem !== undefined) throw new HttpError(400, 'invalid_query', problem, 'step');

      const promQl = await engineAnswer(() => chartQueries(definition));
      // Native SLOs read from an engine take corrections as the evaluator does; hand-written PromQL takes none.
      const engineCorrections = correctionIntervals(
        definition,
        promQl && seriesKeptLocally(definition) ? corrections.all() : [],
        fromMs -
          Math.max(definition.windowMs, ...burnWindows(definition.windowMs).map(([, ms]) => ms)) -
          stepMs,
        toMs,
        Number.NEGATIVE_INFINITY,
      );
      const {
        points,
        histogram,
        corrections: corrected,
      } = promQl
        ? {
            points: await engineAnswer(() =>
              promQlTimeseries(definition, promQl, { fromMs, toMs, stepMs }, engineCorrections.exclude),
            ),
            histogram: new Map(),
            corrections: {
              exclude: clip(engineCorrections.exclude, fromMs, toMs),
              planned: clip(engineCorrections.planned, fromMs, toMs),
            },
          }
        : history.read(definition, { fromMs, toMs, stepMs }, nowMs, corrections.all());
      const { good } = definition.indicator;

      const decided = new Map(
        (await decisions.list({ service: definition.service, fromMs, toMs, limit: 1000 })).map((d) => [
          d.id,
          d.decision,
        ]),
      );
      const markers = deployments.list({ service: definition.service, fromMs, toMs, limit: MAX_DEPLOYMENTS });

      return {
        name: definition.name,
        service: definition.service,
        indicator: good.kind,
        objective: definition.objective,
        window: definition.window,
        from: isoTime(fromMs),
        to: isoTime(toMs),
        step_seconds: stepMs / 1000,
        step: formatDuration(stepMs),
        points: points.map((p) => ({
          t: isoTime(p.atMs),
          sli: p.sli,
          good: p.good,
          valid: p.valid,
          budget_remaining: p.budgetRemaining,
          burn_rates: p.burnRates,
          firing: p.firing,
          requests_per_second: p.requestsPerSecond,
          errors_per_second: p.errorsPerSecond,
          bad_per_second: p.badPerSecond,
          // PromQL points are the engine's rates over finished samples; stored steps may end in an open minute.
          coverage: promQl ? 1 : stepCoverage(p.atMs, stepMs, nowMs),
        })),
        alert_episodes: firingEpisodes(points, stepMs).map((e) => ({
          severity: e.severity,
          started_at: isoTime(e.startedAtMs),
          ended_at: isoTime(e.endedAtMs),
        })),
        deployments: await Promise.all(
          markers.map(async (d) => {
            const impact = (await engineAnswer(() => deployments.impact(d, nowMs))).find(
              (i) => i.slo === definition.name,
            );
            return {
              id: d.id,
              version: d.version,
              environment: d.environment,
              deployed_at: isoTime(d.deployedAtMs),
              decision_id: d.decisionId,
              decision: d.decisionId ? (decided.get(d.decisionId) ?? null) : null,
              budget_burned_1h: impact?.periods['1h'].budgetBurned ?? null,
              budget_burned_1d: impact?.periods['1d'].budgetBurned ?? null,
            };
          }),
        ),
        open_alert: openAlertView(alertEpisodes.get(definition.name)),
        corrections: (['exclude', 'planned'] as const).flatMap((mode) =>
          corrected[mode].map((i) => ({ mode, start: isoTime(i.startMs), end: isoTime(i.endMs) })),
        ),
        composite: definition.composite
          ? {
              components: definition.composite.components.map((c) => ({
                name: c.name,
                weight: c.weight,
                objective: c.objective,
              })),
            }
          : null,
        latency:
          good.kind === 'latency'
            ? {
                threshold_seconds: good.thresholdUs / 1e6,
                bins: [...histogram]
                  .sort(([a], [b]) => a - b)
                  .map(([bin, count]) => ({ le_seconds: binUpperBound(bin) / 1e6, count })),
              }
            : null,
      };
    },
  );
};
export default timeseries;
