import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type, { type Static } from 'typebox';
import { CHANGE_TYPES, type ChangeType, type GateRequest } from '../../gate/decide.js';
import { HttpError } from '../errors.js';
import { isoTime, parseTimeParam } from '../time.js';
import { gateView } from '../views.js';

const GateFields = {
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  environment: Type.Optional(Type.String({ maxLength: 128 })),
  version: Type.Optional(Type.String({ maxLength: 256 })),
  sha: Type.Optional(Type.String({ maxLength: 256 })),
  change_type: Type.Optional(Type.String()),
  run_url: Type.Optional(Type.String({ maxLength: 2048 })),
};
const GateQuery = Type.Object({ ...GateFields, codes: Type.Optional(Type.Literal('body')) });
const GateBody = Type.Union([Type.Object(GateFields), Type.Null()]);

/** Merges query and JSON body (the body wins) into a GateRequest, naming the field that is wrong. */
function gateRequest(
  query: Record<string, string | undefined>,
  body: Record<string, string | undefined> | null,
) {
  const fields = { ...query, ...(body ?? {}) };
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
  return request;
}

/** HTTP status of a decision: 200 allow/warn, 423 deny, 503 cannot decide (never 5xx for a deny). */
const STATUS = { allow: 200, warn: 200, deny: 423, error: 503 } as const;

const gate: FastifyPluginAsyncTypebox = async (app) => {
  const { gate: deployGate, decisions } = app.sloguard;

  const answer = (
    query: Static<typeof GateQuery>,
    body: Static<typeof GateBody> | undefined,
    reply: FastifyReply,
  ) => {
    const decision = deployGate.decide(gateRequest(query, body ?? null));
    const code = query.codes === 'body' ? 200 : STATUS[decision.decision];
    return reply.code(code).send(gateView(decision));
  };
  app.get('/api/v1/gate', { schema: { querystring: GateQuery } }, async (request, reply) =>
    answer(request.query, undefined, reply),
  );
  app.post('/api/v1/gate', { schema: { querystring: GateQuery, body: GateBody } }, async (request, reply) =>
    answer(request.query, request.body, reply),
  );

  app.get(
    '/api/v1/gate/decisions',
    {
      schema: {
        querystring: Type.Object({
          service: Type.Optional(Type.String()),
          from: Type.Optional(Type.String()),
          to: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
      },
    },
    async (request) => {
      const { service, from, to, limit } = request.query;
      const records = decisions.list({
        ...(service !== undefined && { service }),
        fromMs: parseTimeParam('from', from),
        toMs: parseTimeParam('to', to),
        limit: limit ?? 100,
      });
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
};
export default gate;
