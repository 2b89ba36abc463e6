// The overview: every SLO in one sortable, filterable table; filters and sort live in the URL.
import { ago, badge, budgetBar, getJson, h, markNav, pageLoader, percent, rate } from './common.js';
import { loadGateStates } from './gatestate.js';

const REFRESH_MS = 30_000;
const STATE_RANK = { exhausted: 0, warning: 1, 'insufficient-data': 2, 'no-data': 3, ok: 4 };

const params = new URLSearchParams(location.search);
const view = {
  q: params.get('q') ?? '',
  service: params.get('service') ?? '',
  state: params.get('state') ?? '',
  sort: params.get('sort') ?? 'budget',
  dir: params.get('dir') ?? 'ascending',
};
let rows = [];
let gates = new Map();

/** The value a column sorts by; nulls (no data) sort last either way. */
const SORT_KEYS = {
  service: (s) => s.service,
  name: (s) => s.name,
  objective: (s) => s.objective,
  window: (s) => s.window,
  sli: (s) => s.sli,
  budget: (s) => s.budget.remaining_ratio,
  burn1h: (s) => s.burn_rates['1h'],
  burn6h: (s) => s.burn_rates['6h'],
  burn1d: (s) => s.burn_rates['1d'],
  state: (s) => STATE_RANK[s.state],
  alert: (s) => (s.firing === 'page' ? 0 : s.firing === 'ticket' ? 1 : 2),
  gate: (s) => (gates.get(s.service)?.frozen ? 0 : 1),
  fresh: (s) => (s.last_observation_at ? -Date.parse(s.last_observation_at) : null),
};

function compare(a, b) {
  const key = SORT_KEYS[view.sort] ?? SORT_KEYS.budget;
  const x = key(a);
  const y = key(b);
  if (x === y) return a.name.localeCompare(b.name);
  if (x === null || x === undefined) return 1;
  if (y === null || y === undefined) return -1;
  const order = typeof x === 'string' ? x.localeCompare(y) : x < y ? -1 : 1;
  return view.dir === 'descending' ? -order : order;
}

function matches(status) {
  if (view.service && status.service !== view.service) return false;
  if (view.state && status.state !== view.state) return false;
  return !view.q || status.name.toLowerCase().includes(view.q.toLowerCase());
}

/** The gate is open unless it holds a freeze for the service (in any environment). */
function gateCell(service) {
  const gate = gates.get(service);
  if (!gate?.frozen) return h('td', { class: 'hide-narrow' }, badge('open', 'gate-open'));
  return h(
    'td',
    { class: 'hide-narrow', title: `frozen in ${gate.environments.join(', ')}` },
    badge('frozen', 'gate-frozen'),
  );
}

function row(status) {
  const burn = (window, narrow) =>
    h('td', { class: `num${narrow ? ' hide-narrow' : ''}` }, rate(status.burn_rates[window]));
  return h(
    'tr',
    { 'data-service': status.service, 'data-state': status.state },
    h('td', {}, status.service),
    h('td', {}, h('a', { href: `/slo/${encodeURIComponent(status.name)}` }, status.name)),
    h('td', { class: 'num' }, `${status.objective_percent}%`),
    h('td', { class: 'hide-narrow' }, status.window),
    h('td', { class: 'num' }, percent(status.sli)),
    h('td', {}, budgetBar(status.budget.remaining_ratio)),
    burn('1h', false),
    burn('6h', true),
    burn('1d', true),
    h('td', {}, badge(status.state, `state-${status.state}`)),
    h(
      'td',
      { class: 'hide-narrow' },
      status.firing ? badge(status.firing, `sev-${status.firing}`) : h('span', { class: 'muted' }, 'none'),
    ),
    gateCell(status.service),
    h(
      'td',
      { class: `hide-narrow${status.stale ? ' state-exhausted' : ' muted'}` },
      ago(status.last_observation_at),
    ),
  );
}

function renderSummary() {
  const counts = { ok: 0, warning: 0, exhausted: 0, 'insufficient-data': 0, 'no-data': 0 };
  for (const status of rows) counts[status.state] = (counts[status.state] ?? 0) + 1;
  const frozen = [...gates.values()].filter((g) => g.frozen).length;
  const card = (label, value, className) =>
    h('div', { class: `count ${className}` }, h('b', {}, value), label);
  document
    .getElementById('summary')
    .replaceChildren(
      card('SLOs', rows.length, ''),
      card('ok', counts.ok, 'state-ok'),
      card('burning', counts.warning, 'state-warning'),
      card('exhausted', counts.exhausted, 'state-exhausted'),
      card('too few events', counts['insufficient-data'], 'state-insufficient-data'),
      card('no data', counts['no-data'], 'state-no-data'),
      card('frozen services', frozen, frozen > 0 ? 'gate-frozen' : ''),
    );
}

function renderTable() {
  const shown = rows.filter(matches).sort(compare);
  const body = document.querySelector('#slos tbody');
  body.replaceChildren(...shown.map(row));
  document.getElementById('shown').textContent = `${shown.length} of ${rows.length}`;
  for (const th of document.querySelectorAll('th[data-sort]')) {
    if (th.dataset.sort === view.sort) th.setAttribute('aria-sort', view.dir);
    else th.removeAttribute('aria-sort');
  }
}

function renderServices() {
  const select = document.getElementById('service');
  const services = [...new Set(rows.map((s) => s.service))].sort();
  select.replaceChildren(
    h('option', { value: '' }, 'All services'),
    ...services.map((service) =>
      h('option', { value: service, selected: service === view.service }, service),
    ),
  );
}

function saveView() {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(view)) if (value) query.set(key, value);
  history.replaceState(null, '', query.size > 0 ? `?${query}` : location.pathname);
}

const refresh = pageLoader(async () => {
  const [slos, gateStates] = await Promise.all([getJson('/api/v1/slos'), loadGateStates()]);
  rows = slos.slos;
  gates = gateStates;
  renderServices();
  renderSummary();
  renderTable();
});

function bindControls() {
  const search = document.getElementById('search');
  const service = document.getElementById('service');
  const state = document.getElementById('state');
  search.value = view.q;
  state.value = view.state;
  const update = () => {
    view.q = search.value;
    view.service = service.value;
    view.state = state.value;
    saveView();
    renderTable();
  };
  search.addEventListener('input', update);
  service.addEventListener('change', update);
  state.addEventListener('change', update);
  for (const th of document.querySelectorAll('th[data-sort]')) {
    th.addEventListener('click', () => {
      view.dir = view.sort === th.dataset.sort && view.dir === 'ascending' ? 'descending' : 'ascending';
      view.sort = th.dataset.sort;
      saveView();
      renderTable();
    });
  }
  let timer = setInterval(refresh, REFRESH_MS);
  document.getElementById('auto').addEventListener('change', (event) => {
    clearInterval(timer);
    if (event.target.checked) timer = setInterval(refresh, REFRESH_MS);
  });
}

markNav('/');
bindControls();
refresh();
