// The overview: one page of SLOs at a time, filtered, sorted and paged by the server (GET /api/v1/slos), so the
// browser holds at most PAGE_SIZE rows whatever the SLO count; filters, sort and page live in the URL.
import { ago, badge, budgetBar, getJson, h, markNav, pageLoader, percent, rate } from './common.js';
import { loadGateStates } from './gatestate.js';

const REFRESH_MS = 30_000;
const PAGE_SIZE = 100;
/** Typing in the name filter asks the server once the typing pauses, not per key. */
const SEARCH_PAUSE_MS = 200;

const params = new URLSearchParams(location.search);
const view = {
  q: params.get('q') ?? '',
  service: params.get('service') ?? '',
  state: params.get('state') ?? '',
  sort: params.get('sort') ?? 'budget',
  dir: params.get('dir') ?? 'ascending',
  // Within the API's offset range (docs/api.md#slo-list), so an edited URL still shows a page.
  offset: Math.min(1_000_000, Math.max(0, Number.parseInt(params.get('offset') ?? '0', 10) || 0)),
};
let answer = { slos: [], total: 0, states: {}, services: [] };
let gates = new Map();
/** Only the latest request's answer is drawn; an older one arriving late is dropped. */
let latestRequest = 0;
let pendingChange;

function query() {
  const query = new URLSearchParams({
    limit: String(PAGE_SIZE),
    offset: String(view.offset),
    sort: view.sort,
    order: view.dir === 'descending' ? 'desc' : 'asc',
  });
  for (const key of ['service', 'state', 'q']) if (view[key]) query.set(key, view[key]);
  return `/api/v1/slos?${query}`;
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
  const counts = answer.states;
  const all = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const frozen = [...gates.values()].filter((g) => g.frozen).length;
  const card = (label, value, className) =>
    h('div', { class: `count ${className}` }, h('b', {}, value), label);
  document
    .getElementById('summary')
    .replaceChildren(
      card('SLOs', all, ''),
      card('ok', counts.ok ?? 0, 'state-ok'),
      card('burning', counts.warning ?? 0, 'state-warning'),
      card('exhausted', counts.exhausted ?? 0, 'state-exhausted'),
      card('too few events', counts['insufficient-data'] ?? 0, 'state-insufficient-data'),
      card('no data', counts['no-data'] ?? 0, 'state-no-data'),
      card('frozen services', frozen, frozen > 0 ? 'gate-frozen' : ''),
    );
}

function renderTable() {
  const table = document.getElementById('slos');
  table.querySelector('tbody').replaceChildren(...answer.slos.map(row));
  table.removeAttribute('aria-busy');
  const first = answer.slos.length > 0 ? view.offset + 1 : 0;
  const last = view.offset + answer.slos.length;
  document.getElementById('shown').textContent = `${first}–${last} of ${answer.total}`;
  document.getElementById('previous').disabled = view.offset === 0;
  document.getElementById('next').disabled = last >= answer.total;
  for (const th of document.querySelectorAll('th[data-sort]')) {
    if (th.dataset.sort === view.sort) th.setAttribute('aria-sort', view.dir);
    else th.removeAttribute('aria-sort');
  }
}

function renderServices() {
  const select = document.getElementById('service');
  select.replaceChildren(
    h('option', { value: '' }, 'All services'),
    ...answer.services.map((service) =>
      h('option', { value: service, selected: service === view.service }, service),
    ),
  );
}

function saveView() {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(view)) if (value) query.set(key, String(value));
  history.replaceState(null, '', query.size > 0 ? `?${query}` : location.pathname);
}

/** Asks the server for the current view's page; a page past the end (SLOs removed) falls back to the last. */
async function loadPage() {
  const request = ++latestRequest;
  document.getElementById('slos').setAttribute('aria-busy', 'true');
  try {
    let page = await getJson(query());
    if (page.slos.length === 0 && page.total > 0 && view.offset > 0) {
      view.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
      saveView();
      page = await getJson(query());
    }
    if (request !== latestRequest) return false;
    answer = page;
    return true;
  } catch (error) {
    if (request === latestRequest) document.getElementById('slos').removeAttribute('aria-busy');
    throw error;
  }
}

const refresh = pageLoader(async () => {
  const [fresh, gateStates] = await Promise.all([loadPage(), loadGateStates()]);
  gates = gateStates;
  if (!fresh) return;
  renderServices();
  renderSummary();
  renderTable();
});

/** A changed view: saved in the URL, the table marked busy at once (what tests wait on), then asked for. */
function change(resetOffset, delayMs = 0) {
  if (resetOffset) view.offset = 0;
  saveView();
  document.getElementById('slos').setAttribute('aria-busy', 'true');
  clearTimeout(pendingChange);
  pendingChange = setTimeout(refresh, delayMs);
}

function bindControls() {
  const sortable = [...document.querySelectorAll('th[data-sort]')].map((th) => th.dataset.sort);
  if (!sortable.includes(view.sort)) view.sort = 'budget';
  if (view.dir !== 'descending') view.dir = 'ascending';
  const search = document.getElementById('search');
  const service = document.getElementById('service');
  const state = document.getElementById('state');
  search.value = view.q;
  state.value = view.state;
  const update = (delayMs) => () => {
    view.q = search.value;
    view.service = service.value;
    view.state = state.value;
    change(true, delayMs);
  };
  search.addEventListener('input', update(SEARCH_PAUSE_MS));
  service.addEventListener('change', update(0));
  state.addEventListener('change', update(0));
  for (const th of document.querySelectorAll('th[data-sort]')) {
    th.addEventListener('click', () => {
      view.dir = view.sort === th.dataset.sort && view.dir === 'ascending' ? 'descending' : 'ascending';
      view.sort = th.dataset.sort;
      change(true);
    });
  }
  document.getElementById('previous').addEventListener('click', () => {
    view.offset = Math.max(0, view.offset - PAGE_SIZE);
    change(false);
  });
  document.getElementById('next').addEventListener('click', () => {
    view.offset += PAGE_SIZE;
    change(false);
  });
  let timer = setInterval(refresh, REFRESH_MS);
  document.getElementById('auto').addEventListener('change', (event) => {
    clearInterval(timer);
    if (event.target.checked) timer = setInterval(refresh, REFRESH_MS);
  });
}

markNav('/');
bindControls();
refresh();
