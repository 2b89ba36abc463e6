// The gate page: per-service gate state, overrides in force and the decision audit, from the gate's JSON API.
import {
  ago,
  badge,
  getJson,
  getOptionalJson,
  h,
  markNav,
  percent,
  setUpdated,
  showError,
} from './common.js';
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

function renderServices(slos, gates) {
  const lowest = new Map();
  for (const status of slos) {
    const current = lowest.get(status.service);
    const remaining = status.budget.remaining_ratio;
    if (remaining !== null && (current === undefined || remaining < current))
      lowest.set(status.service, remaining);
  }
  const services = [...new Set(slos.map((s) => s.service))].sort();
  document.querySelector('#services tbody').replaceChildren(
    ...services.map((service) => {
      const gate = gates.get(service);
      return h(
        'tr',
        {},
        h('td', {}, service),
        h(
          'td',
          {},
          gate
            ? badge(gate.frozen ? 'frozen' : 'open', gate.frozen ? 'gate-frozen' : 'gate-open')
            : h('span', { class: 'muted' }, 'not asked yet'),
        ),
        h('td', {}, gate ? decisionBadge(gate.decision) : '—'),
        h('td', { class: 'hide-narrow muted' }, gate ? ago(gate.decidedAt) : '—'),
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

async function refresh() {
  try {
    const [slos, gates, overrides, decisions] = await Promise.all([
      getJson('/api/v1/slos'),
      loadGateStates(),
      getOptionalJson('/api/v1/gate/overrides?active=true'),
      getJson('/api/v1/gate/decisions?limit=100'),
    ]);
    document.getElementById('error').replaceChildren();
    renderServices(slos.slos, gates);
    renderOverrides(overrides);
    renderDecisions(decisions);
    setUpdated();
    document.body.dataset.loaded = 'true';
  } catch (error) {
    showError(document.getElementById('error'), error);
  }
}

markNav('/gate');
refresh();
setInterval(refresh, REFRESH_MS);
