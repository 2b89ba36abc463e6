// One SLO: status tiles, the four charts (SLI, budget, burn rate, traffic) plus latency for latency SLIs,
// deployments and alert episodes on the time axis, the burn-rate alert table and a composite's components.
import { renderBreakdown } from './breakdown.js';
import { applyTheme, draw, level, line, partialSegments, timeOptions } from './charts.js';
import {
  badge,
  count,
  duration,
  externalLink,
  getJson,
  h,
  iso,
  markNav,
  pageLoader,
  percent,
  rate,
  themeColor,
  tile,
} from './common.js';
import { renderComponents } from './components.js';
import { renderSloMeta } from './labels.js';
import { fittedFrom, TimeNav } from './timenav.js';

const REFRESH_MS = 60_000;
const RANGES = {
  '15m': 900_000,
  '1h': 3_600_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
  '7d': 604_800_000,
  window: null,
  fit: null,
};
const BURN_LINES = [
  ['5m', '--series-6'],
  ['1h', '--series-1'],
  ['6h', '--series-3'],
  ['1d', '--series-4'],
  ['3d', '--series-5'],
];

const name = decodeURIComponent(location.pathname.replace(/^\/slo\//, ''));
const nav = new TimeNav(document.getElementById('range'), {
  presets: RANGES,
  fallback: 'fit',
  labels: { window: 'SLO window', fit: 'fit data' },
  onChange: () => refresh(),
});
const zoom = (from, to) => nav.zoom(from, to);

function renderHeader(status) {
  document.title = `${status.display_name ?? status.name} · sloguard`;
  document.getElementById('title').textContent = status.display_name ?? status.name;
  renderSloMeta(document.getElementById('slo-meta'), status);
  document.getElementById('crumb-service').textContent = status.service;
  document
    .getElementById('subtitle')
    .replaceChildren(
      `${status.indicator} SLO of ${status.service} · ${status.objective_percent}% over ${status.window} · `,
      badge(status.state, `state-${status.state}`),
      status.state === 'insufficient-data'
        ? ` ${count(status.valid)} of ${count(status.min_valid_events)} valid events: too few to judge the budget (the objective must allow at least one bad event), so the gate does not freeze and no alert fires`
        : '',
      status.firing ? ' ' : '',
      status.firing ? badge(`${status.firing} alert firing`, `sev-${status.firing}`) : '',
      ...(status.runbook || status.owner
        ? [' · runbook ', externalLink(status.runbook, 'open'), ' · owner ', status.owner ?? '—']
        : []),
    );
}

function renderTiles(status) {
  const budget = status.budget;
  const budgetClass =
    budget.remaining_ratio === null
      ? ''
      : budget.remaining_ratio <= 0
        ? 'state-exhausted'
        : budget.remaining_ratio < 0.25
          ? 'state-warning'
          : 'state-ok';
  const sliClass = status.sli === null ? '' : status.sli >= status.objective ? 'state-ok' : 'state-exhausted';
  document
    .getElementById('tiles')
    .replaceChildren(
      tile(
        'Objective',
        `${status.objective_percent}%`,
        `over ${status.window} · ${duration(budget.allowed_downtime_seconds)} of full outage`,
      ),
      tile('SLI', percent(status.sli), `${count(status.good)} good of ${count(status.valid)}`, sliClass),
      tile(
        'Budget remaining',
        percent(budget.remaining_ratio, 1),
        `${count(budget.consumed)} of ${count(budget.allowed)} bad events allowed`,
        budgetClass,
      ),
      tile(
        'Time to exhaustion',
        budget.remaining_ratio !== null && budget.remaining_ratio <= 0
          ? 'spent'
          : duration(status.time_to_exhaustion_seconds),
        status.time_to_exhaustion_seconds === null ? 'not burning' : 'at the 1h burn rate',
        status.time_to_exhaustion_seconds !== null && status.time_to_exhaustion_seconds < 86_400
          ? 'state-exhausted'
          : '',
      ),
      tile(
        'Burn rate 1h',
        rate(status.burn_rates['1h']),
        `6h ${rate(status.burn_rates['6h'])} · 1d ${rate(status.burn_rates['1d'])}`,
      ),
    );
}

function renderAlerts(status) {
  const rows = status.alerts.map((tier) =>
    h(
      'tr',
      {},
      h('td', {}, badge(tier.severity, `sev-${tier.severity}`)),
      h('td', {}, `${tier.long_window} and ${tier.short_window}`),
      h('td', { class: 'num' }, rate(tier.factor)),
      h('td', { class: 'num' }, rate(tier.short_burn_rate)),
      h('td', { class: 'num' }, rate(tier.long_burn_rate)),
      h(
        'td',
        {},
        badge(
          tier.state,
          tier.state === 'firing'
            ? `sev-${tier.severity}`
            : `state-${tier.state === 'ok' ? 'ok' : 'no-data'}`,
        ),
      ),
    ),
  );
  document.querySelector('#alerts tbody').replaceChildren(...rows);
}

function renderDeployments(series) {
  const rows = series.deployments.map((d) =>
    h(
      'tr',
      {},
      h('td', {}, new Date(d.deployed_at).toLocaleString()),
      h('td', { class: 'mono' }, d.version),
      h('td', { class: 'hide-narrow' }, d.environment || '—'),
      h(
        'td',
        {},
        d.decision
          ? badge(
              d.decision,
              d.decision === 'deny'
                ? 'state-exhausted'
                : d.decision === 'warn'
                  ? 'state-warning'
                  : 'state-ok',
            )
          : h('span', { class: 'muted' }, 'not gated'),
      ),
      h('td', { class: 'num' }, percent(d.budget_burned_1h, 1)),
      h('td', { class: 'num' }, percent(d.budget_burned_1d, 1)),
    ),
  );
  if (rows.length === 0)
    rows.push(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No deployments recorded in this range.')));
  document.querySelector('#deployments tbody').replaceChildren(...rows);
}

/**
 * Time markers: computed burn-rate episodes and corrections (planned downtime) shaded; deployments and the
 * alert episode that went out as lines.
 */
function markers(series) {
  const to = Date.parse(series.to);
  const alert = series.open_alert;
  const lines = series.deployments.map((d) => ({
    at: Date.parse(d.deployed_at),
    label: d.version,
    color: themeColor(d.decision === 'deny' ? '--bad' : '--accent'),
  }));
  if (alert) {
    const page = alert.level === 'critical';
    lines.push({
      at: Date.parse(alert.started_at),
      label: page ? 'paged' : `alert: ${alert.level}`,
      color: themeColor(page ? '--page' : '--ticket'),
      priority: 1,
    });
  }
  return {
    episodes: [
      ...series.alert_episodes.map((e) => ({
        from: Date.parse(e.started_at),
        to: e.ended_at ? Date.parse(e.ended_at) : to,
        color: themeColor(e.severity === 'page' ? '--page' : '--ticket'),
      })),
      ...(series.corrections ?? []).map((c) => ({
        from: Date.parse(c.start),
        to: Date.parse(c.end),
        color: themeColor(c.mode === 'exclude' ? '--nodata' : '--accent'),
      })),
    ],
    lines,
  };
}

/** A partial step (its minute not over) drawn dashed, its rates over the time it covers, its coverage in the tooltip. */
function partialStep(points, series, options) {
  options.plugins.tooltip.callbacks.footer = (items) => {
    const coverage = points[items[0].dataIndex]?.coverage ?? 1;
    return coverage < 1 ? `partial step: ${duration(coverage * series.step_seconds)} of ${series.step}` : '';
  };
  return options;
}

function renderCharts(status, series) {
  const points = series.points.map((p) => ({ ...p, x: Date.parse(p.t) }));
  const span = { from: Date.parse(series.from), to: Date.parse(series.to) };
  const marks = markers(series);
  const pick = (field) => points.map((p) => ({ x: p.x, y: p[field] === null ? null : p[field] * 100 }));
  const partial = partialSegments((index) => points[index]?.coverage < 1);
  const perSecond = (field) =>
    points.map((p) => ({ x: p.x, y: p.coverage > 0 ? p[field] / p.coverage : null }));
  const options = (yOptions) => partialStep(points, series, timeOptions(span, marks, yOptions, zoom));

  const sliValues = points.map((p) => p.sli).filter((v) => v !== null);
  const lowest = Math.min(status.objective, ...sliValues);
  const floor = Math.max(0, 100 - (100 - lowest * 100) * 1.6);
  draw(document.getElementById('chart-sli'), {
    type: 'line',
    data: {
      datasets: [
        line('SLI', pick('sli'), themeColor('--series-1'), partial),
        level(`objective ${status.objective_percent}%`, status.objective * 100, span, themeColor('--bad')),
      ],
    },
    options: options({
      suggestedMin: floor,
      max: 100,
      ticks: { callback: (v) => `${Number(v.toFixed(3))}%` },
    }),
  });

  draw(document.getElementById('chart-budget'), {
    type: 'line',
    data: {
      datasets: [
        line('budget remaining', pick('budget_remaining'), themeColor('--series-4'), {
          fill: { target: { value: 0 }, above: `${themeColor('--ok')}33`, below: `${themeColor('--bad')}44` },
          ...partial,
        }),
        level('spent', 0, span, themeColor('--bad')),
      ],
    },
    options: options({
      suggestedMin: 0,
      suggestedMax: 100,
      ticks: { callback: (v) => `${v}%` },
    }),
  });

  const page = status.alerts.find((t) => t.severity === 'page');
  const pageFactor = page?.factor ?? 14;
  document.getElementById('burn-note').textContent =
    `1× spends the budget exactly over ${status.window}; above ${rate(pageFactor)} over ${page?.long_window ?? '1h'} and ${page?.short_window ?? '5m'} pages (the tiers' windows scale with the SLO window).`;
  draw(document.getElementById('chart-burn'), {
    type: 'line',
    data: {
      datasets: [
        ...BURN_LINES.map(([window, color]) =>
          line(
            window,
            points.map((p) => ({ x: p.x, y: p.burn_rates[window] })),
            themeColor(color),
            partial,
          ),
        ),
        level('1×', 1, span, themeColor('--ok')),
        level(`${rate(pageFactor)} page`, pageFactor, span, themeColor('--page')),
      ],
    },
    options: options({
      min: 0,
      suggestedMax: pageFactor * 1.2,
      ticks: { callback: (v) => `${v}×` },
    }),
  });

  draw(document.getElementById('chart-traffic'), {
    type: 'line',
    data: {
      datasets: [
        line('requests/s', perSecond('requests_per_second'), themeColor('--series-1'), {
          fill: 'origin',
          backgroundColor: `${themeColor('--series-1')}22`,
          ...partial,
        }),
        line(
          status.indicator === 'latency' ? 'slow/s' : 'errors/s',
          perSecond('bad_per_second'),
          themeColor('--series-2'),
          { fill: 'origin', backgroundColor: `${themeColor('--series-2')}33`, ...partial },
        ),
      ],
    },
    options: options({ min: 0 }),
  });

  renderLatency(status, series);
}

/** Cumulative latency distribution over the range: the share of requests at or under each latency. */
function renderLatency(status, series) {
  const panel = document.getElementById('latency-panel');
  panel.hidden = !series.latency;
  if (!series.latency) return;
  const bins = series.latency.bins.filter((b) => b.le_seconds !== null);
  const total = series.latency.bins.reduce((sum, b) => sum + b.count, 0);
  let running = 0;
  const cdf = bins.map((b) => {
    running += b.count;
    return { x: b.le_seconds * 1000, y: total > 0 ? (running / total) * 100 : null };
  });
  const thresholdMs = series.latency.threshold_seconds * 1000;
  const maxX = Math.max(thresholdMs * 2, ...cdf.map((p) => p.x));
  document.getElementById('latency-note').textContent =
    `${count(total)} requests in range; dashed: the ${thresholdMs} ms threshold and the ${status.objective_percent}% objective.`;
  draw(document.getElementById('chart-latency'), {
    type: 'line',
    data: {
      datasets: [
        line('at or under', cdf, themeColor('--series-3'), { stepped: true }),
        line(
          'threshold',
          [
            { x: thresholdMs, y: 0 },
            { x: thresholdMs, y: 100 },
          ],
          themeColor('--bad'),
          { borderDash: [6, 4] },
        ),
        line(
          'objective',
          [
            { x: cdf[0]?.x ?? 0.1, y: status.objective * 100 },
            { x: maxX, y: status.objective * 100 },
          ],
          themeColor('--ok'),
          { borderDash: [6, 4] },
        ),
      ],
    },
    options: {
      scales: {
        x: {
          type: 'logarithmic',
          max: maxX,
          title: { display: true, text: 'latency (ms)' },
          ticks: { maxTicksLimit: 8 },
        },
        y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } },
      },
      plugins: { legend: { labels: { boxWidth: 12, boxHeight: 2 } } },
    },
  });
}

/** The chart's series: the range in the URL, else the SLO window, fitted to the data by default. */
async function loadSeries() {
  const path = `/api/v1/slos/${encodeURIComponent(name)}/timeseries`;
  const { range } = nav;
  if (range.preset === undefined) return getJson(`${path}?from=${iso(range.from)}&to=${iso(range.to)}`);
  const spanMs = RANGES[range.preset];
  if (spanMs) return getJson(`${path}?from=${iso(Date.now() - spanMs)}`);
  const whole = await getJson(path);
  if (range.preset !== 'fit') return whole;
  const from = fittedFrom(
    whole.points,
    whole.step_seconds * 1000,
    Date.parse(whole.from),
    Date.parse(whole.to),
  );
  return from === null ? whole : getJson(`${path}?from=${iso(from)}`);
}

const refresh = pageLoader(async () => {
  const range = nav.range;
  const status = await getJson(`/api/v1/slos/${encodeURIComponent(name)}`);
  const series = await loadSeries();
  // A zoom or Back while this load ran: the load for the newer range draws.
  if (range !== nav.range) return;
  nav.show({ from: Date.parse(series.from), to: Date.parse(series.to) });
  renderHeader(status);
  renderTiles(status);
  renderCharts(status, series);
  renderAlerts(status);
  renderDeployments(series);
  renderComponents(status);
  await renderBreakdown(status, series.from, series.to);
});

markNav('');
applyTheme();
refresh();
setInterval(refresh, REFRESH_MS);
