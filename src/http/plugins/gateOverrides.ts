import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { parseDuration } from '../../config/duration.js';
import { overrideView } from '../../gate/answer.js';
import { type GateOverrides, OverrideRejected } from '../../gate/overrides.js';
import { ANY_TIME } from '../../ingest/timeRange.js';
import type { GateOverride } from '../../store/gateOverrides.js';
import { actorOf } from '../actor.js';
import { HttpError } from '../errors.js';
import { OverrideCreated, OverrideList, OverrideOne } from '../schemas/gate.js';
import { isoTime, parseTimeParam } from '../time.js';

const OverrideBody = Type.Object(
  {
    service: Type.String({ minLength: 1, maxLength: 256 }),
    environment: Type.String({ minLength: 1, maxLength: 128 }),
    sha: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
    ticket: Type.String({ minLength: 1, maxLength: 256 }),
    expires_in: Type.Optional(Type.String({ maxLength: 16 })),
    expires_at: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

const view = (o: GateOverride, nowMs = Date.now()) => ({
  ...overrideView(o),
  service: o.service,
  environment: o.environment,
  sha: o.sha,
  created_at: isoTime(o.createdAtMs),
  revoked_at: isoTime(o.revokedAtMs),
  revoked_by: o.revokedBy,
  active: o.revokedAtMs === null && o.expiresAtMs > nowMs,
});

function expiryMs(body: { expires_in?: string; expires_at?: string }, nowMs: number): number {
  if ((body.expires_in === undefined) === (body.expires_at === undefined)) {
    throw new HttpError(
      400,
      'invalid_request',
      'give exactly one of expires_in (e.g. 2h) or expires_at',
      'expires_in',
    );
  }
  // Any time a Date holds: the override rules then allow only the next 4h.
  if (body.expires_at !== undefined) return parseTimeParam('expires_at', body.expires_at, ANY_TIME)!;
  const ms = parseDuration(body.expires_in!);
  if (ms === undefined) {
    throw new HttpError(
      400,
      'invalid_request',
      `expires_in must be a duration like 2h, got "${body.expires_in}"`,
      'expires_in',
    );
  }
  return nowMs + ms;
}

/** Break-glass overrides: granted with a reason, a ticket and an expiry of at most 4h; listed; revocable. */
const overrides: FastifyPluginAsyncTypebox<{ overrides: GateOverrides }> = async (app, options) => {
  const { overrides: service } = options;

  app.post(
    '/api/v1/gate/overrides',
    { config: { access: 'admin' }, schema: { body: OverrideBody, response: OverrideCreated } },
    async (request, reply) => {
      const nowMs = Date.now();
      const { body } = request;
      try {
        const created = await service.create(
          {
            service: body.service,
            environment: body.environment,
            ...(body.sha !== undefined && { sha: body.sha }),
            reason: body.reason,
            ticket: body.ticket,
            expiresAtMs: expiryMs(body, nowMs),
          },
          actorOf(request),
          nowMs,
        );
        return reply
          .code(201)
          .header('location', `/api/v1/gate/overrides/${created.id}`)
          .send(view(created, nowMs));
      } catch (error) {
        if (!(error instanceof OverrideRejected)) throw error;
        const field =
          error.field === 'expires_at' && body.expires_in !== undefined ? 'expires_in' : error.field;
        throw new HttpError(400, 'invalid_request', error.message, field);
      }
    },
  );

  app.get(
    '/api/v1/gate/overrides',
    {
      config: { access: 'read' },
      schema: {
        querystring: Type.Object({
          service: Type.Optional(Type.String()),
          active: Type.Optional(Type.Boolean()),
        }),
        response: OverrideList,
      },
    },
    async (request) => {
      const { service: name, active } = request.query;
      const nowMs = Date.now();
      const list = await service.list({
        ...(name !== undefined && { service: name }),
        ...(active === true && { activeAtMs: nowMs }),
      });
      return { overrides: list.map((o) => view(o, nowMs)) };
    },
  );

  app.get(
    '/api/v1/gate/overrides/:id',
    { config: { access: 'read' }, schema: { params: IdParams, response: OverrideOne } },
    async (request) => {
      const found = await service.get(request.params.id);
      if (!found) throw new HttpError(404, 'not_found', `no override "${request.params.id}"`, 'id');
      return view(found);
    },
  );

  const revoke = async (request: Parameters<typeof actorOf>[0] & { params: { id: string } }) => {
    const revoked = await service.revoke(request.params.id, actorOf(request));
    if (!revoked) throw new HttpError(404, 'not_found', `no override "${request.params.id}"`, 'id');
    return view(revoked);
  };
  app.delete(
    '/api/v1/gate/overrides/:id',
    { config: { access: 'admin' }, schema: { params: IdParams, response: OverrideOne } },
    revoke,
  );
  app.post(
    '/api/v1/gate/overrides/:id/revoke',
    { config: { access: 'admin' }, schema: { params: IdParams, response: OverrideOne } },
    revoke,
  );
};
export default overrides;
