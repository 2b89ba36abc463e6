// The gate page: per-service gate state, overrides in force and the decision audit, from the gate's JSON API.
// Services are shown a page at a time, each with its lowest budget asked of the paged SLO list (GET
// /api/v1/slos), so the page fetches a few rows whatever the SLO count, never the whole list.
import { ago, badge, budgetBar, getJson, getOptionalJson, h, markNav, pageLoader } from './common.js';
import { loadGateStates } from './gatestate.js';
import { labelChips, sloTitle } from './labels.js';

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

/** The SLO with the lowest budget left among a service's: the first sorted by budget (no data sorts last). */
async function lowestSlo(service) {
  const query = new URLSearchParams({ service, sort: 'budget', order: 'asc', limit: '1' });
  const { slos } = await getJson(`/api/v1/slos?${query}`);
  return slos[0] ?? null;
}

/** The page of services in view, each with its lowest budget; a page past the end shows the last one. */
async function loadServicePage() {
  const services = await loadServices();
  if (view.offset >= services.length && services.length > 0)
    view.offset = Math.floor((services.length - 1) / SERVICES_PER_PAGE) * SERVICES_PER_PAGE;
  const shown = services.slice(view.offset, view.offset + SERVICES_PER_PAGE);
  const lowest = await Promise.all(shown.map(lowestSlo));
  return { total: services.length, rows: shown.map((service, i) => ({ service, lowest: lowest[i] })) };
}

function renderServices(page, gates, decisions) {
  const latest = latestDecisions(decisions);
  const rows = page.rows.map(({ service, lowest }) => {
    const gate = gates.get(service);
    const decision = latest.get(service);
    // Gate state and budget first: on a phone they are what shows without scrolling the table sideways.
    return h(
      'tr',
      { 'data-service': service },
      h(
        'td',
        { class: 'col-state' },
        gate?.frozen
          ? badge(
              gate.environments.length > 0 ? `frozen: ${gate.environments.join(', ')}` : 'frozen',
              'gate-frozen',
            )
          : badge('open', 'gate-open'),
      ),
      h('td', { class: 'col-budget' }, budgetBar(lowest?.budget.remaining_ratio)),
      h('td', {}, service),
      h('td', { class: 'col-slo hide-narrow' }, lowest ? [sloTitle(lowest), labelChips(lowest.labels)] : '—'),
      h('td', {}, decision ? decisionBadge(decision.decision) : h('span', { class: 'muted' }, 'none yet')),
      h('td', { class: 'hide-narrow muted' }, decision ? ago(decision.decided_at) : '—'),
    );
  });
  document
    .querySelector('#services tbody')
    .replaceChildren(...(rows.length > 0 ? rows : [empty(6, 'No service has an SLO.')]));
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

/** The decision first: on a phone each row is a compact card (style.css `table.cards`), the reason clamped. */
function renderDecisions(body) {
  const rows = (body?.decisions ?? []).map((d) =>
    h(
      'tr',
      { 'data-decision': d.decision },
      h('td', { class: 'col-decision' }, decisionBadge(d.decision)),
      h('td', {}, new Date(d.decided_at).toLocaleString()),
      h('td', {}, d.service),
      h('td', { class: 'hide-narrow' }, d.environment ?? '—'),
      h('td', { class: 'mono' }, d.version ?? '—'),
      h('td', { class: 'hide-narrow' }, d.change_type),
      h('td', { class: 'reason', title: d.reason }, d.reason),
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
