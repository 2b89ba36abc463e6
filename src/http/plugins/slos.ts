import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { CurrentRegistry } from '../../definitions/registry.js';
import { SloPages } from '../../evaluate/sloPage.js';
import type { SloEvaluator } from '../../schedule/scheduler.js';
import { HttpError } from '../errors.js';
import { SloList, SloListQuery, SloOne } from '../schemas/slos.js';
import { statusView } from '../views.js';

/** The latest SloStatus of every SLO (or a filtered, sorted page of them), and of one. */
const slos: FastifyPluginAsyncTypebox<{ evaluator: SloEvaluator; definitions: CurrentRegistry }> = async (
  app,
  { evaluator, definitions },
) => {
  const pages = new SloPages();
  app.get(
    '/api/v1/slos',
    { config: { access: 'read' }, schema: { querystring: SloListQuery, response: SloList } },
    async (request) => {
      const page = pages.page(evaluator.current(), request.query);
      return { ...page, slos: page.slos.map((status) => statusView(status, evaluator.isStale(status))) };
    },
  );

  app.get(
    '/api/v1/slos/:name',
    {
      config: { access: 'read' },
      schema: { params: Type.Object({ name: Type.String() }), response: SloOne },
    },
    async (request) => {
      const status = evaluator.status(request.params.name);
      if (!status) throw new HttpError(404, 'not_found', `no SLO named "${request.params.name}"`, 'name');
      // Who to call and what to do, on the SLO's own page (the list leaves them out to stay small).
      const definition = definitions.registry.byName.get(status.name);
      return {
        ...statusView(status, evaluator.isStale(status)),
        runbook: definition?.runbook ?? null,
        owner: definition?.owner ?? null,
      };
    },
  );
};
export default slos;
