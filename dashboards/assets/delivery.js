// Delivery: the four DORA keys per service and environment, deployments per day and the change failure rate
// over time. Every figure is the API's (GET /api/v1/delivery); the page only lays them out.
import { applyTheme, draw, line, timeOptions } from './charts.js';
import {
  count,
  duration,
  fillSelect,
  getJson,
  h,
  iso,
  pageLoader,
  percent,
  startFilteredPage,
  themeColor,
  tile,
  trendBuckets,
  urlState,
} from './common.js';
import { TimeNav } from './timenav.js';

const DAY = 86_400_000;
const RANGES = { '7d': 7 * DAY, '28d': 28 * DAY, '90d': 90 * DAY };
/** The deployments list's largest page. */
const DEPLOYMENT_LIMIT = 500;
/** Lines on the change-failure-rate chart at most; the table has every row. */
const MAX_LINES = 8;
const SERIES = [
  '--series-1',
  '--series-2',
  '--series-3',
  '--series-4',
  '--series-5',
  '--series-6',
  '--series-7',
];

const state = urlState(['service', 'environment']);
const nav = new TimeNav(document.getElementById('range'), {
  presets: RANGES,
  fallback: '28d',
  onChange: () => refresh(),
});

const colorOf = (index) => themeColor(SERIES[index % SERIES.length]);
const keyOf = (row) => `${row.service} ${row.environment || '(none)'}`;

function deliveryPath(fromMs, toMs) {
  const query = new URLSearchParams({ from: iso(fromMs), to: iso(toMs) });
  if (state.service) query.set('service', state.service);
  if (state.environment) query.set('environment', state.environment);
  return `/api/v1/delivery?${query}`;
}

function renderTiles(rows, period) {
  const days = (period.to - period.from) / DAY;
  const deployments = rows.reduce((sum, row) => sum + row.deployments, 0);
  const failed = rows.reduce((sum, row) => sum + row.failed_deployments, 0);
  document
    .getElementById('tiles')
    .replaceChildren(
      tile('Deployments', count(deployments), `${(deployments / days).toFixed(2)} a day`),
      tile(
        'Change failure rate',
        deployments === 0 ? '—' : percent(failed / deployments, 1),
        `${count(failed)} failed`,
      ),
      tile(
        'Services',
        count(new Set(rows.map((row) => row.service)).size),
        `over ${duration((period.to - period.from) / 1000)}`,
      ),
    );
}

function renderTable(rows) {
  const body = rows.map((row) =>
    h(
      'tr',
      { 'data-service': row.service, 'data-environment': row.environment ?? '' },
      h('td', {}, row.service),
      h('td', {}, row.environment || '—'),
      h('td', { class: 'num' }, count(row.deployments)),
      h('td', { class: 'num' }, row.deployments_per_day.toFixed(2)),
      h('td', { class: 'num' }, duration(row.lead_time_seconds.median)),
      h('td', { class: 'num hide-narrow' }, duration(row.lead_time_seconds.p90)),
      h('td', { class: 'num' }, percent(row.change_failure_rate, 1)),
      h('td', { class: 'num hide-narrow' }, count(row.failed_deployments)),
      h('td', { class: 'num' }, duration(row.time_to_restore_seconds)),
    ),
  );
  if (body.length === 0)
    body.push(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No deployments in this range.')));
  document.querySelector('#delivery tbody').replaceChildren(...body);
}

/** The local calendar day of a time, as the chart labels it. */
const dayLabel = (ms) => {
  const date = new Date(ms);
  return `${date.getMonth() + 1}/${date.getDate()}`;
};

/** Recorded deployments per calendar day, stacked per service. */
function renderDeploysPerDay(deployments, period) {
  const labels = [];
  /** Where each bar's day starts in the range: the range's start, then local midnights. */
  const starts = [];
  for (let day = new Date(period.from); day.getTime() < period.to && labels.length < 100; ) {
    starts.push(day.getTime());
    labels.push(dayLabel(day.getTime()));
    day.setDate(day.getDate() + 1);
    day.setHours(0, 0, 0, 0);
  }
  // A drag over the bars zooms to the whole days it covers (the category axis gives bar indexes).
  const dayAt = (index) => Math.min(labels.length - 1, Math.max(0, Math.round(index)));
  const zoomDays = (a, b) => {
    const [first, last] = [dayAt(a), dayAt(b)].sort((x, y) => x - y);
    nav.zoom(starts[first], starts[last + 1] ?? period.to);
  };
  const services = [...new Set(deployments.map((d) => d.service))].sort();
  const datasets = services.map((name, index) => {
    const perDay = new Array(labels.length).fill(0);
    for (const d of deployments) {
      const day = labels.indexOf(dayLabel(Date.parse(d.deployed_at)));
      if (d.service === name && day >= 0) perDay[day]++;
    }
    return { label: name, data: perDay, backgroundColor: colorOf(index), stack: 'deployments' };
  });
  draw(document.getElementById('chart-deploys'), {
    type: 'bar',
    data: { labels, datasets },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { labels: { boxWidth: 12 } }, dragZoom: { onZoom: zoomDays } },
    },
  });
  document.getElementById('deploys-note').textContent =
    deployments.length >= DEPLOYMENT_LIMIT
      ? `The latest ${DEPLOYMENT_LIMIT} recorded deployments, stacked per service.`
      : 'Recorded deployments, stacked per service.';
}

/** The API's change failure rate for each trend step, one line per service and environment. */
function renderFailureTrend(steps, rows, period) {
  const keys = rows.map(keyOf).slice(0, MAX_LINES);
  const datasets = keys.map((key, index) =>
    line(
      key,
      steps.map(({ bucket, answer }) => ({
        x: bucket.to,
        y: answer.services.find((row) => keyOf(row) === key)?.change_failure_rate ?? null,
      })),
      colorOf(index),
      { pointRadius: 3, spanGaps: true },
    ),
  );
  draw(document.getElementById('chart-cfr'), {
    type: 'line',
    data: { datasets },
    options: timeOptions(
      period,
      {},
      { min: 0, max: 1, ticks: { callback: (value) => percent(value, 0) } },
      (from, to) => nav.zoom(from, to),
    ),
  });
}

const refresh = pageLoader(async () => {
  const range = nav.range;
  const period = nav.period();
  nav.show(period);
  const deploymentsQuery = new URLSearchParams({
    from: iso(period.from),
    to: iso(period.to),
    limit: String(DEPLOYMENT_LIMIT),
  });
  if (state.service) deploymentsQuery.set('service', state.service);
  const buckets = trendBuckets(period.from, period.to);
  const [catalogue, answer, deployed, ...trend] = await Promise.all([
    getJson('/api/v1/slos?limit=1'),
    getJson(deliveryPath(period.from, period.to)),
    getJson(`/api/v1/deployments?${deploymentsQuery}`),
    ...buckets.map((bucket) => getJson(deliveryPath(bucket.from, bucket.to))),
  ]);
  // A zoom or Back while this load ran: the load for the newer range draws.
  if (range !== nav.range) return;
  fillSelect(document.getElementById('service'), 'All services', catalogue.services, state.service);
  const environments = [...new Set(answer.services.map((row) => row.environment).filter(Boolean))].sort();
  if (state.environment && !environments.includes(state.environment)) environments.push(state.environment);
  fillSelect(document.getElementById('environment'), 'All environments', environments, state.environment);
  const deployments = deployed.deployments.filter(
    (d) => !state.environment || (d.environment ?? '') === state.environment,
  );
  renderTiles(answer.services, period);
  renderTable(answer.services);
  renderDeploysPerDay(deployments, period);
  renderFailureTrend(
    buckets.map((bucket, index) => ({ bucket, answer: trend[index] })),
    answer.services,
    period,
  );
});

applyTheme();
startFilteredPage('/delivery', state, ['service', 'environment'], refresh);
