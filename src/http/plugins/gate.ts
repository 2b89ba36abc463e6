import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type, { type Static } from 'typebox';
import { type GateAnswer, gateAnswer } from '../../gate/answer.js';
import { evaluationWaitMs, type GateCall, GateCallError, gateRequest } from '../../gate/callers.js';
import type { GateEvaluations } from '../../gate/evaluations.js';
import type { DecisionTrail, DeployGate } from '../../gate/gate.js';
import type { GateOverrides } from '../../gate/overrides.js';
import { acceptedRange } from '../../ingest/timeRange.js';
import type { GateEvaluation } from '../../store/gateEvaluations.js';
import { HttpError } from '../errors.js';
import { serviceRange, serviceRangeQuery } from '../range.js';
import {
  DecisionList,
  EvaluationBody,
  EvaluationPolled,
  EvaluationStarted,
  FreezeList,
  GateAnswers,
  GateBody,
  GateQuery,
} from '../schemas/gate.js';
import { isoTime } from '../time.js';
import deployments, { type DeploymentParts } from './deployments.js';
import overrides from './gateOverrides.js';

/** A caller's field that makes no gate request is a 400 naming it. */
function fromCaller<T>(map: () => T): T {
  try {
    return map();
  } catch (error) {
    if (error instanceof GateCallError)
      throw new HttpError(400, 'invalid_request', error.message, error.field);
    throw error;
  }
}

/** HTTP status of a decision: 200 allow/warn, 423 deny, 503 cannot decide (never 5xx for a deny). */
export const DECISION_STATUS = { allow: 200, warn: 200, deny: 423, error: 503 } as const;

const evaluationView = (evaluation: GateEvaluation) => {
  const answer = evaluation.answer as GateAnswer | null;
  return {
    id: evaluation.id,
    status: evaluation.status,
    decision: answer?.decision ?? null,
    allowed: answer?.allowed ?? false,
    reason: answer?.reason ?? null,
    created_at: isoTime(evaluation.createdAtMs),
    deadline: isoTime(evaluation.deadlineMs),
    decided_at: isoTime(evaluation.decidedAtMs),
    answer,
  };
};

export interface GateRouteParts extends DeploymentParts {
  gate: DeployGate;
  decisions: DecisionTrail;
  evaluations: GateEvaluations;
  overrides: GateOverrides;
}

const gate: FastifyPluginAsyncTypebox<GateRouteParts> = async (app, options) => {
  const { gate: deployGate, decisions, evaluations, times } = options;

  const answer = async (
    query: Static<typeof GateQuery>,
    body: GateCall | null | undefined,
    reply: FastifyReply,
  ) => {
    const decision = await deployGate.decideCommitted(fromCaller(() => gateRequest(query, body)));
    const code = query.codes === 'body' ? 200 : DECISION_STATUS[decision.decision];
    return reply.code(code).send(gateAnswer(decision));
  };
  app.get(
    '/api/v1/gate',
    {
      config: { access: 'gate', numbersTidied: true },
      schema: { querystring: GateQuery, response: GateAnswers },
    },
    async (request, reply) => answer(request.query, undefined, reply),
  );
  app.post(
    '/api/v1/gate',
    {
      config: { access: 'gate', tokenInBody: true, numbersTidied: true },
      schema: { querystring: GateQuery, body: GateBody, response: GateAnswers },
    },
    async (request, reply) => answer(request.query, request.body, reply),
  );

  app.post(
    '/api/v1/gate/evaluations',
    {
      config: { access: 'gate' },
      schema: { querystring: GateQuery, body: EvaluationBody, response: EvaluationStarted },
    },
    async (request, reply) => {
      const { wait, ...body } = request.body;
      const evaluation = await evaluations.start(
        fromCaller(() => gateRequest(request.query, body)),
        fromCaller(() => evaluationWaitMs(wait)),
      );
      return (
        reply
          .code(202)
          // Absolute: Spinnaker polls the Location header as it is, without resolving it against the request.
          .header(
            'location',
            `${request.protocol}://${request.host}/api/v1/gate/evaluations/${evaluation.id}`,
          )
          .send(evaluationView(evaluation))
      );
    },
  );
  app.get(
    '/api/v1/gate/evaluations/:id',
    {
      config: { access: 'gate' },
      schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: EvaluationPolled },
    },
    async (request) => {
      const evaluation = await evaluations.poll(request.params.id);
      if (!evaluation) throw new HttpError(404, 'not_found', `no evaluation "${request.params.id}"`, 'id');
      return evaluationView(evaluation);
    },
  );

  app.get(
    '/api/v1/gate/decisions',
    { config: { access: 'read' }, schema: { querystring: serviceRangeQuery(1000), response: DecisionList } },
    async (request) => {
      const records = await decisions.list(
        serviceRange(request.query, 100, acceptedRange(times, Date.now())),
      );
      return {
        decisions: records.map((record) => ({
          decision_id: record.id,
          decided_at: isoTime(record.decidedAtMs),
          service: record.service,
          environment: record.environment,
          version: record.version,
          change_type: record.changeType,
          decision: record.decision,
          reason: record.reason,
          request: record.request,
          answer: record.answer,
        })),
      };
    },
  );

  app.get(
    '/api/v1/gate/freezes',
    {
      config: { access: 'read' },
      schema: { querystring: Type.Object({ service: Type.Optional(Type.String()) }), response: FreezeList },
    },
    async (request) => ({
      freezes: deployGate.freezes(request.query.service).map((f) => ({
        service: f.service,
        environment: f.environment || null,
        frozen: f.frozen,
        changed_at: isoTime(f.changedAtMs),
      })),
    }),
  );

  await app.register(overrides, { overrides: options.overrides });
  await app.register(deployments, {
    deployments: options.deployments,
    definitions: options.definitions,
    times,
  });
};
export default gate;
