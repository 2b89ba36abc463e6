import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { CorrectionSpec, correctionSpec, correctionWindow } from '../../definitions/corrections.js';
import type { CurrentRegistry } from '../../definitions/registry.js';
import { TimeWindowError } from '../../definitions/timeWindows.js';
import type { Correction } from '../../model/correction.js';
import {
  type CorrectionStore,
  type CorrectionWrites,
  MAX_ACTIVE_CORRECTIONS,
  type RecordedCorrection,
} from '../../store/corrections.js';
import { actorOf } from '../actor.js';
import { HttpError } from '../errors.js';
import {
  CorrectionCreated,
  CorrectionDeleted,
  CorrectionList,
  CorrectionOne,
} from '../schemas/corrections.js';
import { isoTime } from '../time.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

const view = (c: Correction | RecordedCorrection) => {
  const deletedAtMs = 'deletedAtMs' in c ? c.deletedAtMs : null;
  return {
    id: c.id,
    origin: c.origin,
    ...correctionSpec(c),
    actor: c.actor,
    created_at: isoTime(c.createdAtMs),
    deleted_at: isoTime(deletedAtMs),
    deleted_by: 'deletedBy' in c ? c.deletedBy : null,
    active: deletedAtMs === null,
    ...(c.location && { file: `${c.location.file}:${c.location.line}` }),
  };
};

/**
 * Corrections through the API (docs/corrections.md): add with a reason (the actor comes from the token), list,
 * delete. Writes need the `admin` scope: a correction changes every budget, alert and gate answer it covers.
 * Nothing is erased: a delete is recorded with who made it.
 */
export interface CorrectionParts {
  corrections: CorrectionStore;
  /** Where adds and deletes go when not to `corrections` (replicas: PostgreSQL, copied back to it). */
  correctionWrites?: CorrectionWrites;
  definitions: CurrentRegistry;
}

const corrections: FastifyPluginAsyncTypebox<CorrectionParts> = async (app, options) => {
  const { corrections: store, definitions } = options;
  const writes = options.correctionWrites ?? store;

  app.post(
    '/api/v1/corrections',
    { config: { access: 'admin' }, schema: { body: CorrectionSpec, response: CorrectionCreated } },
    async (request, reply) => {
      const { body } = request;
      // Read at use: a reload replaces the definition set.
      const { registry } = definitions;
      try {
        correctionWindow(body.window);
      } catch (error) {
        if (!(error instanceof TimeWindowError)) throw error;
        throw new HttpError(400, 'invalid_request', `${error.field}: ${error.reason}`, `body.${error.field}`);
      }
      const unknownSlos = (body.appliesTo.slos ?? []).filter((name) => !registry.byName.has(name));
      if (unknownSlos.length > 0)
        throw new HttpError(
          400,
          'invalid_request',
          `no SLO named ${unknownSlos.join(', ')}`,
          'body.appliesTo.slos',
        );
      const unknownServices = (body.appliesTo.services ?? []).filter((s) => !registry.byService.has(s));
      if (unknownServices.length > 0) {
        throw new HttpError(
          400,
          'invalid_request',
          `no SLO is defined for service ${unknownServices.join(', ')}`,
          'body.appliesTo.services',
        );
      }
      const created = await writes.create(body, actorOf(request), Date.now());
      if (!created) {
        throw new HttpError(
          409,
          'too_many_corrections',
          `${MAX_ACTIVE_CORRECTIONS} corrections are in force already: delete some first`,
        );
      }
      request.log.info({ correction: created.id, actor: created.actor }, 'correction added');
      return reply.code(201).header('location', `/api/v1/corrections/${created.id}`).send(view(created));
    },
  );

  app.get(
    '/api/v1/corrections',
    { config: { access: 'read' }, schema: { response: CorrectionList } },
    async () => ({
      corrections: store.list().map(view),
    }),
  );

  app.get(
    '/api/v1/corrections/:id',
    { config: { access: 'read' }, schema: { params: IdParams, response: CorrectionOne } },
    async (request) => {
      const found = store.get(request.params.id);
      if (!found) throw new HttpError(404, 'not_found', `no correction "${request.params.id}"`, 'id');
      return view(found);
    },
  );

  app.delete(
    '/api/v1/corrections/:id',
    { config: { access: 'admin' }, schema: { params: IdParams, response: CorrectionDeleted } },
    async (request) => {
      const { id } = request.params;
      const result = await writes.delete(id, actorOf(request), Date.now());
      if (result === 'unknown') throw new HttpError(404, 'not_found', `no correction "${id}"`, 'id');
      if (result === 'from-file')
        throw new HttpError(
          409,
          'conflict',
          `correction "${id}" is declared in a definitions file: remove it there`,
          'id',
        );
      if (result === 'already-deleted')
        throw new HttpError(409, 'conflict', `correction "${id}" was deleted already`, 'id');
      request.log.info({ correction: id, actor: result.deletedBy }, 'correction deleted');
      return view(result);
    },
  );
};
export default corrections;
