// Incidents: a timeline per service (incident bars from start to resolution, deployment markers), the
// reliability figures per service, the MTTR trend and the list with runbooks, owners and suspected changes.
import { applyTheme, draw, line, timeOptions } from './charts.js';
import {
  badge,
  duration,
  externalLink,
  fillSelect,
  getJson,
  h,
  iso,
  pageLoader,
  percent,
  rate,
  startFilteredPage,
  themeColor,
  trendBuckets,
  urlState,
} from './common.js';
import { labelChips, sloTitle } from './labels.js';
import { roundTicks, tickLabel } from './timeaxis.js';
import { TimeNav } from './timenav.js';

const DAY = 86_400_000;
const RANGES = { '1d': DAY, '7d': 7 * DAY, '28d': 28 * DAY, '90d': 90 * DAY };
/** The API's page size; the list says when there were more. */
const LIMIT = 500;
/** Lanes and reliability rows drawn at most: one request per service. */
const MAX_SERVICES = 30;

const state = urlState(['service']);
const nav = new TimeNav(document.getElementById('range'), {
  presets: RANGES,
  fallback: '28d',
  onChange: () => refresh(),
});

/** Left offset and width, in percent of the range, of [fromMs, toMs]. */
function span(fromMs, toMs, period) {
  const width = period.to - period.from;
  const left = Math.max(0, (fromMs - period.from) / width);
  const right = Math.min(1, (toMs - period.from) / width);
  return { left: left * 100, width: Math.max(0.3, (right - left) * 100) };
}

function place(element, { left, width }) {
  element.style.left = `${left.toFixed(3)}%`;
  if (width !== undefined) element.style.width = `${width.toFixed(3)}%`;
  return element;
}

function incidentSummary(incident) {
  const slos = [...new Set(incident.episodes.map((e) => e.slo))].join(', ');
  const lasted = incident.resolved_at ? duration(incident.duration_seconds) : 'open';
  return `${incident.service}: ${incident.severity}, ${lasted}, ${percent(incident.budget_consumed, 1)} of the budget (${slos})`;
}

function incidentBar(incident, period) {
  const endMs = incident.resolved_at ? Date.parse(incident.resolved_at) : period.to;
  const classes = ['bar', `sev-${incident.severity}`];
  if (!incident.resolved_at) classes.push('open');
  if (incident.postmortem_required) classes.push('postmortem');
  const bar = h(
    'a',
    {
      class: classes.join(' '),
      href: `#incident-${incident.id}`,
      title: incidentSummary(incident),
      'data-incident': incident.id,
    },
    incident.postmortem_required ? 'PM' : '',
  );
  return place(bar, span(Date.parse(incident.started_at), endMs, period));
}

function deployMarker(deployment, period) {
  const rollback = deployment.change_type === 'rollback';
  const marker = h('span', {
    class: `deploy${rollback ? ' rollback' : ''}`,
    title: `${deployment.version}${deployment.environment ? ` to ${deployment.environment}` : ''} at ${new Date(deployment.deployed_at).toLocaleString()}${rollback ? ' (rollback)' : ''}`,
    'data-version': deployment.version,
  });
  return place(marker, { left: span(Date.parse(deployment.deployed_at), 0, period).left });
}

function renderTimeline(services, incidents, deployments, period) {
  const lanes = services.map((name) =>
    h(
      'div',
      { class: 'lane', 'data-service': name },
      h('div', { class: 'lane-name' }, name),
      h(
        'div',
        { class: 'track' },
        ...deployments.filter((d) => d.service === name).map((d) => deployMarker(d, period)),
        ...incidents.filter((i) => i.service === name).map((i) => incidentBar(i, period)),
      ),
    ),
  );
  const { stepMs, ticks } = roundTicks(period.from, period.to, 6);
  const axis = h(
    'div',
    { class: 'lane axis' },
    h('div', { class: 'lane-name' }),
    h(
      'div',
      { class: 'track' },
      ...ticks.map((at) =>
        place(h('span', { class: 'tick', 'data-at': at }, tickLabel(at, stepMs)), {
          left: span(at, at, period).left,
        }),
      ),
    ),
  );
  const timeline = document.getElementById('timeline');
  if (lanes.length === 0)
    timeline.replaceChildren(h('p', { class: 'muted' }, 'No incidents or deployments in this range.'));
  else timeline.replaceChildren(...lanes, axis);
}

function renderReliability(figures) {
  const rows = figures.map((r) =>
    h(
      'tr',
      { 'data-service': r.service },
      h('td', {}, r.service),
      h('td', { class: 'num' }, r.incident_count),
      h('td', { class: 'num' }, duration(r.mttr_seconds.from_detection)),
      h('td', { class: 'num hide-narrow' }, duration(r.mttr_seconds.from_start)),
      h('td', { class: 'num hide-narrow' }, duration(r.mttf_seconds)),
      h('td', { class: 'num hide-narrow' }, duration(r.mtbf_seconds)),
      h('td', { class: 'num hide-narrow' }, duration(r.mean_time_to_detect_seconds)),
      h('td', { class: 'num hide-narrow' }, percent(r.budget_consumed_per_incident, 1)),
      h('td', { class: 'num' }, r.postmortems_required),
    ),
  );
  if (rows.length === 0)
    rows.push(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No service to show.')));
  document.querySelector('#reliability tbody').replaceChildren(...rows);
}

function deploymentList(deployments) {
  if (deployments.length === 0) return h('span', { class: 'muted' }, 'none');
  return deployments.flatMap((d, index) => [
    index > 0 ? ', ' : '',
    h(
      'span',
      { class: 'mono', title: new Date(d.deployed_at).toLocaleString() },
      d.change_type === 'rollback' ? `${d.version} (rollback)` : d.version,
    ),
  ]);
}

function renderList(incidents, total) {
  const rows = incidents.map((incident) => {
    // One entry per SLO, as each page names it: display name, name beside it, labels as chips.
    const slos = [...new Map(incident.episodes.map((e) => [e.slo, e])).values()];
    return h(
      'tr',
      { id: `incident-${incident.id}`, 'data-service': incident.service },
      h('td', {}, new Date(incident.started_at).toLocaleString()),
      h('td', {}, incident.service),
      h(
        'td',
        {},
        slos.map((e) =>
          h(
            'div',
            { class: 'incident-slo' },
            sloTitle({ name: e.slo, display_name: e.slo_display_name }),
            labelChips(e.slo_labels),
          ),
        ),
      ),
      h('td', {}, badge(incident.severity, `sev-${incident.severity}`)),
      h(
        'td',
        { class: 'num' },
        incident.resolved_at ? duration(incident.duration_seconds) : badge('open', 'state-warning'),
      ),
      h('td', { class: 'num hide-narrow' }, rate(incident.peak_burn_rate)),
      h('td', { class: 'num' }, percent(incident.budget_consumed, 1)),
      h(
        'td',
        {},
        incident.postmortem_required
          ? badge('required', 'state-exhausted')
          : h('span', { class: 'muted' }, 'no'),
      ),
      h('td', { class: 'hide-narrow' }, deploymentList(incident.suspected_deployments)),
      h('td', { class: 'hide-narrow' }, deploymentList(incident.following_deployments)),
      h('td', {}, externalLink(incident.runbook, 'runbook')),
      h('td', { class: 'hide-narrow' }, incident.owner ?? '—'),
    );
  });
  if (rows.length === 0)
    rows.push(h('tr', {}, h('td', { colspan: 12, class: 'muted' }, 'No incidents in this range.')));
  document.querySelector('#incidents tbody').replaceChildren(...rows);
  document.getElementById('shown').textContent =
    total > incidents.length ? `(latest ${incidents.length} of ${total})` : `(${total})`;
}

const mean = (values) =>
  values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Mean time to restore of the incidents resolved in each bucket, in minutes, from detection and from start. */
function renderTrend(incidents, period) {
  const resolved = incidents.filter((i) => i.resolved_at);
  const points = trendBuckets(period.from, period.to).map((bucket) => {
    const inBucket = resolved.filter((i) => {
      const at = Date.parse(i.resolved_at);
      return at > bucket.from && at <= bucket.to;
    });
    const minutes = (startField) =>
      mean(inBucket.map((i) => (Date.parse(i.resolved_at) - Date.parse(i[startField])) / 60_000));
    return { x: bucket.to, detection: minutes('detected_at'), start: minutes('started_at') };
  });
  draw(document.getElementById('chart-mttr'), {
    type: 'line',
    data: {
      datasets: [
        line(
          'from detection',
          points.map((p) => ({ x: p.x, y: p.detection })),
          themeColor('--series-1'),
          { pointRadius: 3, spanGaps: true },
        ),
        line(
          'from start',
          points.map((p) => ({ x: p.x, y: p.start })),
          themeColor('--series-3'),
          { pointRadius: 3, spanGaps: true },
        ),
      ],
    },
    options: timeOptions(
      period,
      {},
      { beginAtZero: true, title: { display: true, text: 'minutes' } },
      (from, to) => nav.zoom(from, to),
    ),
  });
}

/** The period the timeline shows, for turning a drag on it into times. */
let shownPeriod = null;

/**
 * Drag across the timeline to zoom, as on the charts: a band while dragging, then the span as the range. The
 * pointer is captured only once the drag passes 5 px, so a click on a bar still follows its link.
 */
function timelineZoom(timeline) {
  let drag = null;
  /** The dragged span in percent of the track, from the drag's start to `x`. */
  const band = (dragged, x) => {
    const share = (at) => Math.min(1, Math.max(0, (at - dragged.box.left) / dragged.box.width));
    const [a, b] = [share(dragged.start), share(x)].sort((p, q) => p - q);
    return { left: a * 100, width: (b - a) * 100 };
  };
  timeline.addEventListener('dragstart', (event) => event.preventDefault());
  timeline.addEventListener('pointerdown', (event) => {
    const track = event.target.closest('.track');
    if (!track || event.button !== 0 || !shownPeriod) return;
    drag = { track, box: track.getBoundingClientRect(), start: event.clientX, band: null };
  });
  timeline.addEventListener('pointermove', (event) => {
    if (!drag || (!drag.band && Math.abs(event.clientX - drag.start) < 5)) return;
    if (!drag.band) {
      drag.band = h('div', { class: 'zoom-band' });
      drag.track.append(drag.band);
      timeline.setPointerCapture(event.pointerId);
    }
    place(drag.band, band(drag, event.clientX));
  });
  const finish = (event, cancelled) => {
    const done = drag;
    drag = null;
    if (!done?.band) return;
    done.band.remove();
    if (cancelled) return;
    const { left, width } = band(done, event.clientX);
    const span = shownPeriod.to - shownPeriod.from;
    nav.zoom(shownPeriod.from + (left / 100) * span, shownPeriod.from + ((left + width) / 100) * span);
  };
  timeline.addEventListener('pointerup', (event) => finish(event, false));
  timeline.addEventListener('pointercancel', (event) => finish(event, true));
}

const refresh = pageLoader(async () => {
  const range = nav.range;
  const period = nav.period();
  nav.show(period);
  const query = new URLSearchParams({ from: iso(period.from), to: iso(period.to), limit: String(LIMIT) });
  if (state.service) query.set('service', state.service);
  const [catalogue, answer, deployed] = await Promise.all([
    getJson('/api/v1/slos?limit=1'),
    getJson(`/api/v1/incidents?${query}`),
    getJson(`/api/v1/deployments?${query}`),
  ]);
  fillSelect(document.getElementById('service'), 'All services', catalogue.services, state.service);
  const { incidents } = answer;
  const deployments = deployed.deployments;
  const shown = state.service
    ? [state.service]
    : [...new Set([...incidents.map((i) => i.service), ...deployments.map((d) => d.service)])]
        .sort()
        .slice(0, MAX_SERVICES);
  // A service whose SLOs were removed keeps its history (a lane) but has no reliability answer.
  const defined = new Set(catalogue.services);
  const figures = await Promise.all(
    shown
      .filter((name) => defined.has(name))
      .map((name) =>
        getJson(
          `/api/v1/services/${encodeURIComponent(name)}/reliability?from=${iso(period.from)}&to=${iso(period.to)}`,
        ),
      ),
  );
  // A zoom or Back while this load ran: the load for the newer range draws.
  if (range !== nav.range) return;
  renderTimeline(shown, incidents, deployments, period);
  shownPeriod = period;
  renderReliability(figures);
  renderTrend(incidents, period);
  renderList(incidents, answer.total);
});

applyTheme();
timelineZoom(document.getElementById('timeline'));
startFilteredPage('/incidents', state, ['service'], refresh);
