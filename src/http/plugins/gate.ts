import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type, { type Static } from 'typebox';
import { parseDuration } from '../../config/duration.js';
import { type GateAnswer, gateAnswer } from '../../gate/answer.js';
import type { GateRequest } from '../../gate/decide.js';
import { type GateEvaluations, MAX_EVALUATION_WAIT_MS } from '../../gate/evaluations.js';
import { type DeployGate, type GateDecision, unrecordedDecision } from '../../gate/gate.js';
import type { GateOverrides } from '../../gate/overrides.js';
import { CHANGE_TYPES, type ChangeType } from '../../gate/policy.js';
import { acceptedRange } from '../../ingest/timeRange.js';
import { isStorageFault } from '../../store/faults.js';
import type { GateDecisionStore } from '../../store/gateDecisions.js';
import type { GateEvaluation } from '../../store/gateEvaluations.js';
import { HttpError } from '../errors.js';
import { serviceRange, serviceRangeQuery } from '../range.js';
import { isoTime } from '../time.js';
import deployments, { type DeploymentParts } from './deployments.js';
import overrides from './gateOverrides.js';

const GateFields = {
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  environment: Type.Optional(Type.String({ maxLength: 128 })),
  version: Type.Optional(Type.String({ maxLength: 256 })),
  sha: Type.Optional(Type.String({ maxLength: 256 })),
  change_type: Type.Optional(Type.String()),
  run_url: Type.Optional(Type.String({ maxLength: 2048 })),
};
const GateQuery = Type.Object({ ...GateFields, codes: Type.Optional(Type.Literal('body')) });
/** Our fields, or Flagger's webhook payload unchanged (name, namespace, phase, checksum, metadata). */
const FlaggerFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  namespace: Type.Optional(Type.String({ maxLength: 256 })),
  phase: Type.Optional(Type.String({ maxLength: 64 })),
  checksum: Type.Optional(Type.String({ maxLength: 256 })),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
};
const GateBody = Type.Union([Type.Object({ ...GateFields, ...FlaggerFields }), Type.Null()]);
type GateBody = Static<typeof GateBody>;
const EvaluationBody = Type.Object({
  ...GateFields,
  ...FlaggerFields,
  wait: Type.Optional(Type.String({ maxLength: 16 })),
});

type Fields = Record<string, string | undefined>;

/**
 * Flagger sends its own payload: the service is `metadata.service`, else the canary's name; the environment
 * `metadata.environment`, else the namespace; other fields may come as metadata too. `metadata.token` is
 * Flagger's way to pass a token and is never stored.
 */
function flaggerFields(body: NonNullable<GateBody>): Fields {
  if (body.name === undefined) return {};
  const metadata = body.metadata ?? {};
  return {
    service: metadata.service ?? body.name,
    environment: metadata.environment ?? body.namespace,
    version: metadata.version ?? metadata.sha,
    change_type: metadata.change_type,
    run_url: metadata.run_url,
  };
}

/** Merges query, Flagger payload and JSON body (the body wins) into a GateRequest, naming a wrong field. */
function gateRequest(query: Fields, body: GateBody | undefined): GateRequest {
  const { metadata: _metadata, ...plain } = body ?? {};
  const defined = (fields: Fields) =>
    Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const fields: Fields = {
    ...defined(query),
    ...(body ? defined(flaggerFields(body)) : {}),
    ...defined(plain),
  };
  if (!fields.service) throw new HttpError(400, 'invalid_request', 'service is required', 'service');
  const changeType = fields.change_type ?? 'feature';
  if (!(CHANGE_TYPES as readonly string[]).includes(changeType)) {
    throw new HttpError(
      400,
      'invalid_request',
      `change_type must be one of ${CHANGE_TYPES.join(', ')}, got "${changeType}"`,
      'change_type',
    );
  }
  const request: GateRequest = { service: fields.service, changeType: changeType as ChangeType };
  if (fields.environment) request.environment = fields.environment;
  const version = fields.version ?? fields.sha;
  if (version) request.version = version;
  if (fields.run_url) request.runUrl = fields.run_url;
  if (fields.checksum) request.checksum = fields.checksum;
  return request;
}

/** HTTP status of a decision: 200 allow/warn, 423 deny, 503 cannot decide (never 5xx for a deny). */
export const DECISION_STATUS = { allow: 200, warn: 200, deny: 423, error: 503 } as const;

function waitMs(wait: string | undefined): number {
  if (wait === undefined || wait === '0' || wait === '0s') return 0;
  const ms = parseDuration(wait);
  if (ms === undefined || ms > MAX_EVALUATION_WAIT_MS) {
    throw new HttpError(
      400,
      'invalid_request',
      `wait must be a duration up to 6h (e.g. 15m), got "${wait}"`,
      'wait',
    );
  }
  return ms;
}

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
  decisions: GateDecisionStore;
  evaluations: GateEvaluations;
  overrides: GateOverrides;
}

const gate: FastifyPluginAsyncTypebox<GateRouteParts> = async (app, options) => {
  const { gate: deployGate, decisions, evaluations, times } = options;

  const answer = async (query: Static<typeof GateQuery>, body: GateBody | undefined, reply: FastifyReply) => {
    let decision: GateDecision = deployGate.decide(gateRequest(query, body));
    // Answer only what the audit trail holds; what it cannot hold is answered by the no-data policy.
    try {
      await decisions.committed();
    } catch (error) {
      if (!isStorageFault(error)) throw error;
      decision = unrecordedDecision(decision, error);
    }
    const code = query.codes === 'body' ? 200 : DECISION_STATUS[decision.decision];
    return reply.code(code).send(gateAnswer(decision));
  };
  app.get('/api/v1/gate', { schema: { querystring: GateQuery } }, async (request, reply) =>
    answer(request.query, undefined, reply),
  );
  app.post('/api/v1/gate', { schema: { querystring: GateQuery, body: GateBody } }, async (request, reply) =>
    answer(request.query, request.body, reply),
  );

  app.post(
    '/api/v1/gate/evaluations',
    { schema: { querystring: GateQuery, body: EvaluationBody } },
    async (request, reply) => {
      const { wait, ...body } = request.body;
      const evaluation = evaluations.start(gateRequest(request.query, body), waitMs(wait));
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
    { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
    async (request) => {
      const evaluation = evaluations.poll(request.params.id);
      if (!evaluation) throw new HttpError(404, 'not_found', `no evaluation "${request.params.id}"`, 'id');
      return evaluationView(evaluation);
    },
  );

  app.get('/api/v1/gate/decisions', { schema: { querystring: serviceRangeQuery(1000) } }, async (request) => {
    const records = decisions.list(serviceRange(request.query, 100, acceptedRange(times, Date.now())));
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
  });

  app.get(
    '/api/v1/gate/freezes',
    { schema: { querystring: Type.Object({ service: Type.Optional(Type.String()) }) } },
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
