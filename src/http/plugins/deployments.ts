import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { CurrentRegistry } from '../../definitions/registry.js';
import { COMMIT_RANGE_MS } from '../../gate/callers.js';
import type { Deployments, PeriodImpact } from '../../gate/deployments.js';
import { acceptedRange, type TimePolicy } from '../../ingest/timeRange.js';
import { CHANGE_TYPES } from '../../model/gate.js';
import type { Deployment } from '../../store/deployments.js';
import { engineAnswer, HttpError } from '../errors.js';
import { serviceRange, serviceRangeQuery } from '../range.js';
import { DeploymentCreated, DeploymentList } from '../schemas/gate.js';
import { parseTimeParam } from '../time.js';
import { deploymentView } from '../views.js';

const DeploymentBody = Type.Object(
  {
    service: Type.String({ minLength: 1, maxLength: 256 }),
    environment: Type.Optional(Type.String({ maxLength: 128 })),
    version: Type.String({ minLength: 1, maxLength: 256 }),
    time: Type.Optional(Type.String({ maxLength: 64 })),
    decision_id: Type.Optional(Type.String({ maxLength: 64 })),
    change_type: Type.Optional(Type.Enum(CHANGE_TYPES)),
    commit_at: Type.Optional(
      Type.String({ maxLength: 64, description: 'when the change was committed (RFC 3339 or Unix seconds)' }),
    ),
  },
  { additionalProperties: false },
);

const periodView = (p: PeriodImpact) => ({
  valid: p.valid,
  bad: p.bad,
  charged_bad: p.chargedBad,
  baseline_error_ratio: p.baselineErrorRatio,
  budget_burned: p.budgetBurned,
  complete: p.complete,
});

/** Deployment markers, each with the error budget burned in the hour and the day after it. */
export interface DeploymentParts {
  deployments: Deployments;
  definitions: CurrentRegistry;
  times: TimePolicy;
}

const deployments: FastifyPluginAsyncTypebox<DeploymentParts> = async (app, options) => {
  const { deployments: service, definitions, times } = options;

  const view = async (d: Deployment, nowMs: number) => ({
    ...deploymentView(d),
    impact: (await engineAnswer(() => service.impact(d, nowMs))).map((i) => ({
      slo: i.slo,
      hour_after: periodView(i.periods['1h']),
      day_after: periodView(i.periods['1d']),
    })),
  });

  app.post(
    '/api/v1/deployments',
    { config: { access: 'gate' }, schema: { body: DeploymentBody, response: DeploymentCreated } },
    async (request, reply) => {
      const { body } = request;
      if (!definitions.registry.byService.has(body.service)) {
        throw new HttpError(
          400,
          'invalid_request',
          `no SLO is defined for service "${body.service}"`,
          'service',
        );
      }
      const nowMs = Date.now();
      const deployedAtMs = parseTimeParam('time', body.time, acceptedRange(times, nowMs)) ?? nowMs;
      // A commit comes before its deployment: a later one would make the lead time negative.
      const commitAtMs = parseTimeParam('commit_at', body.commit_at, {
        fromMs: COMMIT_RANGE_MS[0],
        toMs: deployedAtMs,
      });
      const deployment = service.record({
        service: body.service,
        ...(body.environment && { environment: body.environment }),
        version: body.version,
        deployedAtMs,
        ...(body.decision_id && { decisionId: body.decision_id }),
        ...(body.change_type && { changeType: body.change_type }),
        ...(commitAtMs !== undefined && { commitAtMs }),
      });
      return reply.code(201).send(await view(deployment, nowMs));
    },
  );

  app.get(
    '/api/v1/deployments',
    { config: { access: 'read' }, schema: { querystring: serviceRangeQuery(500), response: DeploymentList } },
    async (request) => {
      const nowMs = Date.now();
      const list = service.list(serviceRange(request.query, 50, acceptedRange(times, nowMs)));
      return { deployments: await Promise.all(list.map((d) => view(d, nowMs))) };
    },
  );
};
export default deployments;
