import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type LinkSettings, sloLinks } from '../../config/links.js';
import type { CurrentRegistry } from '../../definitions/registry.js';
import { budgetBreakdown, type StepSumsReader } from '../../evaluate/breakdown.js';
import type { SeriesSource } from '../../evaluate/select.js';
import { acceptedRange, type TimePolicy } from '../../ingest/timeRange.js';
import { seriesKeptLocally } from '../../model/slo.js';
import type { EngineBreakdownReader } from '../../sources/engine/breakdown.js';
import { countKeyOf } from '../../sources/store/counts.js';
import type { BucketStore } from '../../store/buckets.js';
import type { SeriesBreakdownStore } from '../../store/seriesBreakdown.js';
import { engineAnswer, HttpError } from '../errors.js';
import { BreakdownQuery, SloBreakdown } from '../schemas/breakdown.js';
import { isoTime, parseTimeParam } from '../time.js';

const MINUTE_MS = 60_000;
/** The longest range a breakdown reads: a quarter, past any SLO window. */
const MAX_RANGE_MS = 92 * 86_400_000;

export interface BreakdownParts {
  definitions: CurrentRegistry;
  buckets: BucketStore;
  seriesBreakdown: SeriesBreakdownStore;
  times: TimePolicy;
  links: LinkSettings;
  /** Native SLOs are evaluated on an engine (`data.engine`): their series are there, not in this store. */
  nativeOnEngine?: boolean;
  /** Reads native SLOs' breakdowns from that engine. */
  engineBreakdown?: EngineBreakdownReader;
}

/** What a breakdown ranks: the SLO's series and a reader of their sums per step. */
interface Ranked {
  series: SeriesSource;
  read: StepSumsReader;
}

/** The engine's series of an SLO; an engine that fails is a 503, as for its charts. */
async function fromEngine(answer: ReturnType<EngineBreakdownReader>, name: string): Promise<Ranked> {
  const read = answer && (await engineAnswer(() => answer));
  if (read && 'failure' in read) throw new HttpError(422, 'breakdown_unavailable', read.failure, 'name');
  if (read) return read;
  throw new HttpError(
    422,
    'breakdown_unavailable',
    `"${name}" is read with PromQL from its engine, which keeps its series: break it down there`,
    'name',
  );
}

/** `GET /api/v1/slos/:name/breakdown`: which series spent an SLO's budget over a range, ranked. */
const breakdown: FastifyPluginAsyncTypebox<BreakdownParts> = async (app, options) => {
  const { definitions, buckets, seriesBreakdown, times, links } = options;
  app.get(
    '/api/v1/slos/:name/breakdown',
    {
      config: { access: 'read' },
      schema: {
        params: Type.Object({ name: Type.String() }),
        querystring: BreakdownQuery,
        response: SloBreakdown,
      },
    },
    async (request) => {
      const { query } = request;
      const definition = definitions.registry.byName.get(request.params.name);
      if (!definition) throw new HttpError(404, 'not_found', `no SLO named "${request.params.name}"`, 'name');
      const nowMs = Date.now();
      const accepted = acceptedRange(times, nowMs);
      const toMs = parseTimeParam('to', query.to, accepted) ?? nowMs;
      const fromMs =
        parseTimeParam('from', query.from, accepted) ?? Math.max(accepted.fromMs, toMs - definition.windowMs);
      if (fromMs >= toMs) throw new HttpError(400, 'invalid_query', 'from must be before to', 'from');
      if (toMs - fromMs > MAX_RANGE_MS)
        throw new HttpError(400, 'invalid_query', 'the range may span at most 92 days', 'from');
      const steps = query.steps ?? 24;
      const stepMs = Math.ceil((toMs - fromMs) / steps / MINUTE_MS) * MINUTE_MS;
      const sort = query.sort ?? 'bad';
      const onEngine = !seriesKeptLocally(definition) || options.nativeOnEngine;
      const oldestMinuteKept = buckets.oldestMinuteKept(nowMs);
      const { series, read }: Ranked = onEngine
        ? await fromEngine(options.engineBreakdown?.(definition, { fromMs, toMs, stepMs }), definition.name)
        : {
            series: buckets.seriesReader(),
            read: (ids, indicator) =>
              seriesBreakdown.read(ids, { fromMs, toMs, stepMs }, oldestMinuteKept, countKeyOf(indicator)),
          };
      const groups = budgetBreakdown(definition, series, read, { limit: query.limit ?? 10, sort });
      return {
        name: definition.name,
        service: definition.service,
        indicator: definition.indicator.good.kind,
        budgeting: definition.budgeting,
        from: isoTime(fromMs),
        to: isoTime(toMs),
        step_seconds: stepMs / 1000,
        sort,
        groups: groups.map((group) => ({
          component: group.component,
          objective: group.objective,
          valid: group.valid,
          bad: group.bad,
          error_bound: group.errorBound,
          sli: group.sli,
          allowed_bad: group.allowedBad,
          budget_spent: group.budgetSpent,
          series_count: group.seriesCount,
          links: sloLinks(links, definition, { fromMs, toMs }, group.indicator),
          series: group.rows.map((row) => ({
            kind: row.kind,
            source: row.source,
            route: row.operation,
            method: row.method,
            valid: row.valid,
            bad: row.bad,
            error_bound: row.errorBound,
            sli: row.sli,
            bad_share: row.badShare,
            budget_share: row.budgetShare,
            sparkline: row.sparkline,
            links: sloLinks(links, definition, { fromMs, toMs }, group.indicator, row),
          })),
        })),
      };
    },
  );
};
export default breakdown;
