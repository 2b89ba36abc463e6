// A composite SLO's components (GET /api/v1/slos/:name `components`): each with its own SLI, budget left,
// weight and state, linked to its page, so the one that hurts the composite shows.
import { badge, budgetBar, h, percent } from './common.js';
import { sloTitle } from './labels.js';

function componentRow(component) {
  return h(
    'tr',
    { 'data-slo': component.name, 'data-state': component.state ?? 'no-data' },
    h(
      'td',
      { class: 'col-state' },
      badge(component.state ?? 'no data', `state-${component.state ?? 'no-data'}`),
    ),
    h('td', { class: 'col-budget' }, budgetBar(component.budget_remaining)),
    h('td', { class: 'col-slo' }, sloTitle(component)),
    h('td', { class: 'num' }, percent(component.sli)),
    h('td', { class: 'num' }, percent(component.objective)),
    h('td', { class: 'num' }, percent(component.weight, 1)),
  );
}

/** Shows the components panel for a composite and hides it for any other SLO. */
export function renderComponents(status) {
  const panel = document.getElementById('composite-panel');
  panel.hidden = !status.components;
  if (!status.components) return;
  document.querySelector('#components tbody').replaceChildren(...status.components.map(componentRow));
}
