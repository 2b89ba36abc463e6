// The gate page: per-service gate state, overrides in force and the decision audit, from the gate's JSON API.
// Services are shown a page at a time, each with its lowest budget asked of the paged SLO list (GET
// /api/v1/slos), so the page fetches a few rows whatever the SLO count, never the whole list.
import { ago, badge, getJson, getOptionalJson, h, markNav, pageLoader, percent } from './common.js';
import { loadGateStates } from './gatestate.js';

const REFRESH_MS = 30_000;
const SERVICES_PER_PAGE = 25;
/** Typing in the filter redraws once the typing pauses, not per key. */
const FILTER_PAUSE_MS = 200;

const params = new URLSearchParams(location.search);
const view = {
  filter: params.get('service') ?? '',
  offset: Math.max(0, Number.parseInt(params.get('offset') ?? '0', 10) || 0),
};
let pendingChange;
/** Only the latest refresh draws; an older one finishing late (a filter typed meanwhile) is dropped. */
let latestRefresh = 0;

const decisionBadge = (decision) =>
  badge(
    decision,
    decision === 'deny' || decision === 'error'
      ? 'state-exhausted'
      : decision === 'warn'
        ? 'state-warning'
        : 'state-ok',
  );

const empty = (columns, text) => h('tr', {}, h('td', { colspan: columns, class: 'muted' }, text));

/** The newest decision of each service (the audit lists newest first). */
function latestDecisions(body) {
  const latest = new Map();
  for (const decision of body?.decisions ?? [])
    if (!latest.has(decision.service)) latest.set(decision.service, decision);
  return latest;
}

/** Every service with an SLO (the SLO list names them all in any page of it, here a page of one SLO). */
async function loadServices() {
  const { services } = await getJson('/api/v1/slos?limit=1');
  const filter = view.filter.toLowerCase();
  return filter ? services.filter((service) => service.toLowerCase().includes(filter)) : services;
}

/** The lowest budget left among a service's SLOs: the first of its SLOs sorted by budget (no data sorts last). */
async function lowestBudget(service) {
  const query = new URLSearchParams({ service, sort: 'budget', order: 'asc', limit: '1' });
  const { slos } = await getJson(`/api/v1/slos?${query}`);
  return slos[0]?.budget.remaining_ratio ?? null;
}

/** The page of services in view, each with its lowest budget; a page past the end shows the last one. */
async function loadServicePage() {
  const services = await loadServices();
  if (view.offset >= services.length && services.length > 0)
    view.offset = Math.floor((services.length - 1) / SERVICES_PER_PAGE) * SERVICES_PER_PAGE;
  const shown = services.slice(view.offset, view.offset + SERVICES_PER_PAGE);
  const budgets = await Promise.all(shown.map(lowestBudget));
  return { total: services.length, rows: shown.map((service, i) => ({ service, lowest: budgets[i] })) };
}

function renderServices(page, gates, decisions) {
  const latest = latestDecisions(decisions);
  const rows = page.rows.map(({ service, lowest }) => {
    const gate = gates.get(service);
    const decision = latest.get(service);
    return h(
      'tr',
      { 'data-service': service },
      h('td', {}, service),
      h(
        'td',
        {},
        gate?.frozen
          ? badge(`frozen: ${gate.environments.join(', ')}`, 'gate-frozen')
          : badge('open', 'gate-open'),
      ),
      h('td', {}, decision ? decisionBadge(decision.decision) : h('span', { class: 'muted' }, 'none yet')),
      h('td', { class: 'hide-narrow muted' }, decision ? ago(decision.decided_at) : '—'),
      h('td', { class: 'num' }, percent(lowest, 1)),
    );
  });
  document
    .querySelector('#services tbody')
    .replaceChildren(...(rows.length > 0 ? rows : [empty(5, 'No service has an SLO.')]));
  const last = view.offset + page.rows.length;
  document.getElementById('shown').textContent =
    `${page.rows.length > 0 ? view.offset + 1 : 0}–${last} of ${page.total}`;
  document.getElementById('previous').disabled = view.offset === 0;
  document.getElementById('next').disabled = last >= page.total;
}

function renderOverrides(body) {
  const rows = body
    ? body.overrides.map((o) =>
        h(
          'tr',
          {},
          h('td', {}, o.service),
          h('td', { class: 'hide-narrow' }, o.environment),
          h('td', {}, o.reason),
          h('td', { class: 'hide-narrow mono' }, o.ticket),
          h('td', { class: 'hide-narrow' }, o.actor),
          h('td', {}, new Date(o.expires_at).toLocaleString()),
        ),
      )
    : [empty(6, 'Overrides are not available in this build.')];
  document
    .querySelector('#overrides tbody')
    .replaceChildren(...(rows.length > 0 ? rows : [empty(6, 'No override in force.')]));
}

function renderDecisions(body) {
  const rows = (body?.decisions ?? []).map((d) =>
    h(
      'tr',
      {},
      h('td', {}, new Date(d.decided_at).toLocaleString()),
      h('td', {}, d.service),
      h('td', { class: 'hide-narrow' }, d.environment ?? '—'),
      h('td', { class: 'mono' }, d.version ?? '—'),
      h('td', { class: 'hide-narrow' }, d.change_type),
      h('td', {}, decisionBadge(d.decision)),
      h('td', { class: 'reason' }, d.reason),
    ),
  );
  document
    .querySelector('#decisions tbody')
    .replaceChildren(...(rows.length > 0 ? rows : [empty(7, 'No gate decision yet.')]));
}

const refresh = pageLoader(async () => {
  const request = ++latestRefresh;
  const [services, gates, overrides, decisions] = await Promise.all([
    loadServicePage(),
    loadGateStates(),
    getOptionalJson('/api/v1/gate/overrides?active=true'),
    getJson('/api/v1/gate/decisions?limit=100'),
  ]);
  if (request !== latestRefresh) return;
  renderServices(services, gates, decisions);
  renderOverrides(overrides);
  renderDecisions(decisions);
});

/** A changed view: kept in the URL (a link shows the same page), then drawn. */
function change(delayMs = 0) {
  const query = new URLSearchParams();
  if (view.filter) query.set('service', view.filter);
  if (view.offset > 0) query.set('offset', String(view.offset));
  history.replaceState(null, '', query.size > 0 ? `?${query}` : location.pathname);
  clearTimeout(pendingChange);
  pendingChange = setTimeout(refresh, delayMs);
}

function bindControls() {
  const filter = document.getElementById('service-filter');
  filter.value = view.filter;
  filter.addEventListener('input', () => {
    view.filter = filter.value;
    view.offset = 0;
    change(FILTER_PAUSE_MS);
  });
  document.getElementById('previous').addEventListener('click', () => {
    view.offset = Math.max(0, view.offset - SERVICES_PER_PAGE);
    change();
  });
  document.getElementById('next').addEventListener('click', () => {
    view.offset += SERVICES_PER_PAGE;
    change();
  });
}

markNav('/gate');
bindControls();
refresh();
setInterval(refresh, REFRESH_MS);
