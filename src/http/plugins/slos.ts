import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { CurrentRegistry } from '../../definitions/registry.js';
import { type LabelMatch, parseLabelMatch, SloPages } from '../../evaluate/sloPage.js';
import type { SloEvaluator } from '../../schedule/scheduler.js';
import { HttpError } from '../errors.js';
import { SloList, SloListQuery, SloOne } from '../schemas/slos.js';
import { breakdownView, componentsView, sloInfoView, statusView } from '../views.js';

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
      const { label, ...query } = request.query;
      // The schema holds each to `key:value`, so every one parses.
      const labels = (label ?? []).map(parseLabelMatch).filter((m): m is LabelMatch => m !== null);
      const { byName } = definitions.registry;
      const { labelValues, ...page } = pages.page(evaluator.current(), { ...query, labels }, byName);
      return {
        ...page,
        label_values: labelValues,
        slos: page.slos.map((status) => ({
          ...statusView(status, evaluator.isStale(status)),
          ...sloInfoView(byName.get(status.name)),
        })),
      };
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
      const { byName } = definitions.registry;
      const definition = byName.get(status.name);
      return {
        ...statusView(status, evaluator.isStale(status)),
        ...sloInfoView(definition),
        ...breakdownView(definition),
        components: componentsView(
          definition,
          (name) => evaluator.status(name),
          (name) => byName.get(name),
        ),
      };
    },
  );
};
export default slos;
