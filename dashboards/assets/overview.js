// The overview: one page of SLOs at a time, filtered, sorted and paged by the server (GET /api/v1/slos), so the
// browser holds at most PAGE_SIZE rows whatever the SLO count; filters (labels too), grouping, sort and page
// live in the URL.
import { ago, badge, budgetBar, getJson, h, markNav, pageLoader, percent, rate } from './common.js';
import { loadGateStates } from './gatestate.js';
import { labelChips, labelText, sloTitle } from './labels.js';

const REFRESH_MS = 30_000;
const PAGE_SIZE = 100;
/** Typing in the name filter asks the server once the typing pauses, not per key. */
const SEARCH_PAUSE_MS = 200;
/** The API's bounds on label filters (docs/api.md#slo-list): an edited URL beyond them is trimmed, not refused. */
const MAX_LABELS = 10;
const MAX_LABEL_LENGTH = 400;
const COLUMNS = 13;

const validLabel = (text) => /^[^:]+:/.test(text) && text.length <= MAX_LABEL_LENGTH;

const params = new URLSearchParams(location.search);
const view = {
  q: params.get('q') ?? '',
  service: params.get('service') ?? '',
  state: params.get('state') ?? '',
  /** `key:value` strings, every one of which an SLO must carry. */
  labels: [...new Set(params.getAll('label').filter(validLabel))].slice(0, MAX_LABELS),
  /** A label key the rows are grouped by, '' for none. */
  group: (params.get('group') ?? '').slice(0, 200),
  sort: params.get('sort') ?? 'budget',
  dir: params.get('dir') ?? 'ascending',
  // Within the API's offset range (docs/api.md#slo-list), so an edited URL still shows a page.
  offset: Math.min(1_000_000, Math.max(0, Number.parseInt(params.get('offset') ?? '0', 10) || 0)),
};
let answer = { slos: [], total: 0, states: {}, services: [], firing: {}, label_values: {} };
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
  for (const key of ['service', 'state', 'q', 'group']) if (view[key]) query.set(key, view[key]);
  for (const label of view.labels) query.append('label', label);
  return `/api/v1/slos?${query}`;
}

/** The gate is open unless it holds a freeze for the service (in any environment). */
function gateCell(service) {
  const gate = gates.get(service);
  if (!gate?.frozen) return h('td', { class: 'col-gate hide-narrow' }, badge('open', 'gate-open'));
  return h(
    'td',
    {
      class: 'col-gate hide-narrow',
      title: gate.environments.length > 0 ? `frozen in ${gate.environments.join(', ')}` : 'frozen',
    },
    badge('frozen', 'gate-frozen'),
  );
}

/** Adds a label to the filters (a chip clicked in a row, or the label menu). */
function addLabel(key, value) {
  const label = `${key}:${value}`;
  if (view.labels.includes(label) || view.labels.length >= MAX_LABELS || !validLabel(label)) return;
  view.labels = [...view.labels, label];
  change(true);
}

/** State and budget first: on a phone they are what shows without scrolling the table sideways. */
function row(status) {
  const burn = (window, narrow) =>
    h('td', { class: `num${narrow ? ' hide-narrow' : ''}` }, rate(status.burn_rates[window]));
  return h(
    'tr',
    { 'data-service': status.service, 'data-state': status.state, 'data-slo': status.name },
    h('td', { class: 'col-state' }, badge(status.state, `state-${status.state}`)),
    h('td', { class: 'col-budget' }, budgetBar(status.budget.remaining_ratio)),
    h('td', { class: 'col-slo' }, sloTitle(status), labelChips(status.labels, addLabel)),
    h('td', { class: 'col-service' }, status.service),
    h('td', { class: 'num' }, `${status.objective_percent}%`),
    h('td', { class: 'hide-narrow' }, status.window),
    h('td', { class: 'col-sli num' }, percent(status.sli)),
    burn('1h', false),
    burn('6h', true),
    burn('1d', true),
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
      card('paging', answer.firing.page ?? 0, answer.firing.page > 0 ? 'sev-page' : ''),
      card('exhausted', counts.exhausted ?? 0, 'state-exhausted'),
      card('too few events', counts['insufficient-data'] ?? 0, 'state-insufficient-data'),
      card('no data', counts['no-data'] ?? 0, 'state-no-data'),
      card('frozen services', frozen, frozen > 0 ? 'gate-frozen' : ''),
    );
}

/** A section heading before each group's first row on this page; its count is over every matching SLO. */
function groupRow(value) {
  const count = answer.groups?.find((g) => g.value === value)?.count ?? 0;
  return h(
    'tr',
    { class: 'group-row', 'data-group': value ?? '' },
    h(
      'th',
      { colspan: COLUMNS, scope: 'rowgroup' },
      value === null ? `no ${view.group} label` : labelText(view.group, value),
      h('span', { class: 'muted' }, ` · ${count} SLO${count === 1 ? '' : 's'}`),
    ),
  );
}

function tableRows() {
  if (!view.group) return answer.slos.map(row);
  const rows = [];
  let previous;
  for (const status of answer.slos) {
    // Own labels only, as the server groups them: `?group=constructor` is a label no SLO has.
    const value = Object.hasOwn(status.labels, view.group) ? status.labels[view.group] : null;
    if (rows.length === 0 || value !== previous) rows.push(groupRow(value));
    previous = value;
    rows.push(row(status));
  }
  return rows;
}

function renderTable() {
  const table = document.getElementById('slos');
  table.querySelector('tbody').replaceChildren(...tableRows());
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

/** The label menu (every label the SLOs carry, minus those chosen), the group menu and the chosen filters. */
function renderLabels() {
  const values = answer.label_values;
  const keys = Object.keys(values);
  document.getElementById('label').replaceChildren(
    h('option', { value: '' }, 'Filter by label…'),
    ...keys.map((key) =>
      h(
        'optgroup',
        { label: key },
        values[key]
          .filter((value) => !view.labels.includes(`${key}:${value}`))
          .map((value) => h('option', { value: `${key}:${value}` }, labelText(key, value))),
      ),
    ),
  );
  const groupKeys = view.group && !keys.includes(view.group) ? [...keys, view.group] : keys;
  document
    .getElementById('group')
    .replaceChildren(
      h('option', { value: '' }, 'No grouping'),
      ...groupKeys.map((key) => h('option', { value: key, selected: key === view.group }, `Group by ${key}`)),
    );
  document.getElementById('label-filters').replaceChildren(
    ...view.labels.map((label) => {
      const colon = label.indexOf(':');
      const chip = h(
        'button',
        { type: 'button', class: 'chip chosen', 'data-label': label, title: 'Remove this filter' },
        `${labelText(label.slice(0, colon), label.slice(colon + 1))} ×`,
      );
      chip.addEventListener('click', () => {
        view.labels = view.labels.filter((other) => other !== label);
        change(true);
      });
      return chip;
    }),
  );
}

function saveView() {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(view)) {
    if (key === 'labels') for (const label of value) query.append('label', label);
    else if (value) query.set(key, String(value));
  }
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
  renderLabels();
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
  document.getElementById('label').addEventListener('change', (event) => {
    const colon = event.target.value.indexOf(':');
    if (colon > 0) addLabel(event.target.value.slice(0, colon), event.target.value.slice(colon + 1));
  });
  document.getElementById('group').addEventListener('change', (event) => {
    view.group = event.target.value;
    change(true);
  });
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
