// The gate page: per-service gate state, overrides in force and the decision audit, from the gate's JSON API.
import { ago, badge, getJson, getOptionalJson, h, markNav, pageLoader, percent } from './common.js';
import { loadGateStates } from './gatestate.js';

const REFRESH_MS = 30_000;

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

function renderServices(slos, gates, decisions) {
  const lowest = new Map();
  for (const status of slos) {
    const current = lowest.get(status.service);
    const remaining = status.budget.remaining_ratio;
    if (remaining !== null && (current === undefined || remaining < current))
      lowest.set(status.service, remaining);
  }
  const latest = latestDecisions(decisions);
  const services = [...new Set(slos.map((s) => s.service))].sort();
  document.querySelector('#services tbody').replaceChildren(
    ...services.map((service) => {
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
        h('td', { class: 'num' }, percent(lowest.get(service) ?? null, 1)),
      );
    }),
  );
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
  const [slos, gates, overrides, decisions] = await Promise.all([
    getJson('/api/v1/slos'),
    loadGateStates(),
    getOptionalJson('/api/v1/gate/overrides?active=true'),
    getJson('/api/v1/gate/decisions?limit=100'),
  ]);
  renderServices(slos.slos, gates, decisions);
  renderOverrides(overrides);
  renderDecisions(decisions);
});

markNav('/gate');
refresh();
setInterval(refresh, REFRESH_MS);
