// "What burns the budget": the SLO's series (route, method, source) ranked by the budget they spent over the
// range the charts show, each with its own SLI sparkline and links to its traces and logs. Opening the section
// puts `?breakdown=<sort>` in the URL, so a reload (or a shared link) opens it again.
import { count, getJson, h, percent, setQuery } from './common.js';
import { linksOut } from './links.js';

const SORTS = { bad: 'most bad events', sli: 'lowest SLI' };
const SVG = 'http://www.w3.org/2000/svg';
const SPARK_WIDTH = 96;
const SPARK_HEIGHT = 22;

let section;
let current = { name: '', from: '', to: '' };
let pending = null;
let pendingKey = '';

function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** The SLI per step as a small line (gaps where a step had no events), scaled from the lowest SLI or the objective to 100%. */
function sparkline(values, objective) {
  const known = values.filter((v) => v !== null);
  const low = Math.min(objective, ...known);
  const span = 1 - low || 1;
  const x = (i) => ((i + 0.5) / values.length) * SPARK_WIDTH;
  const y = (v) => 2 + (1 - (v - low) / span) * (SPARK_HEIGHT - 4);
  const chart = svg('svg', {
    class: 'sparkline',
    width: SPARK_WIDTH,
    height: SPARK_HEIGHT,
    viewBox: `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`,
    role: 'img',
    'aria-label': `SLI per step, lowest ${percent(known.length ? Math.min(...known) : null)}`,
  });
  chart.append(
    svg('line', { class: 'objective', x1: 0, x2: SPARK_WIDTH, y1: y(objective), y2: y(objective) }),
  );
  let run = [];
  const flush = () => {
    if (run.length === 1) chart.append(svg('circle', { cx: run[0][0], cy: run[0][1], r: 1.5 }));
    if (run.length > 1) chart.append(svg('polyline', { points: run.map((p) => p.join(',')).join(' ') }));
    run = [];
  };
  values.forEach((v, i) => {
    if (v === null) flush();
    else run.push([x(i).toFixed(1), y(v).toFixed(1)]);
  });
  flush();
  for (const [i, v] of values.entries()) {
    if (v !== null && v < objective) chart.append(svg('circle', { class: 'miss', cx: x(i), cy: y(v), r: 2 }));
  }
  return chart;
}

/** A share as a bar with its percent; over 100% (a series that spent more than the range allowed) the bar is full and red. */
function shareBar(share) {
  const fill = h('div', { class: 'fill' });
  fill.style.width = `${Math.min(100, Math.max(0, (share ?? 0) * 100)).toFixed(1)}%`;
  if (share !== null && share > 1) fill.classList.add('over');
  return h(
    'div',
    { class: 'share' },
    h('div', { class: 'share-bar' }, fill),
    h('span', {}, percent(share, 1)),
  );
}

function groupTable(group) {
  const rows = group.series.map((s) =>
    h(
      'tr',
      { 'data-route': s.route, 'data-method': s.method },
      h('td', { class: 'mono' }, s.route),
      h('td', {}, s.method),
      h('td', { class: 'hide-narrow' }, s.source),
      h(
        'td',
        { class: 'num' },
        s.error_bound > 0 ? `${count(s.bad)} ±${count(s.error_bound)}` : count(s.bad),
      ),
      h('td', { class: 'num hide-narrow' }, count(s.valid)),
      h('td', { class: 'num' }, percent(s.sli)),
      h('td', { class: 'num hide-narrow' }, percent(s.bad_share, 1)),
      h('td', {}, group.budget_spent === null ? '—' : shareBar(s.budget_share)),
      h('td', { class: 'hide-narrow' }, sparkline(s.sparkline, group.objective)),
      h('td', { class: 'links' }, linksOut(s.links, `${s.method} ${s.route}`)),
    ),
  );
  if (rows.length === 0)
    rows.push(h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No events in this range.')));
  const head = [
    'Route',
    'Method',
    'Source',
    'Bad',
    'Valid',
    'SLI',
    'Share of bad',
    'Budget spent',
    'SLI per step',
    '',
  ];
  const narrow = new Set(['Source', 'Valid', 'Share of bad', 'SLI per step']);
  const numeric = new Set(['Bad', 'Valid', 'SLI', 'Share of bad']);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'breakdown-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((text) =>
            h(
              'th',
              {
                class:
                  [numeric.has(text) && 'num', narrow.has(text) && 'hide-narrow'].filter(Boolean).join(' ') ||
                  null,
              },
              text,
            ),
          ),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

function groupSummary(group) {
  const spent =
    group.budget_spent === null
      ? 'spent in time slices'
      : `${percent(group.budget_spent, 1)} of the range's budget spent`;
  const more =
    group.series_count > group.series.length
      ? ` (the ${group.series.length} worst of ${group.series_count} series)`
      : '';
  return h(
    'p',
    { class: 'breakdown-summary' },
    group.component ? h('b', {}, `${group.component.name} `) : null,
    `${count(group.bad)} bad of ${count(group.valid)} events, ${spent}${more}. `,
    linksOut(group.links, group.component?.name ?? 'this SLO'),
  );
}

/** Loads the breakdown for the current range; a load asked while the same one is under way shares it. */
function load() {
  const key = JSON.stringify([current, location.search]);
  if (pending && pendingKey === key) return pending;
  pendingKey = key;
  pending = fetchBreakdown().finally(() => {
    pending = null;
  });
  return pending;
}

async function fetchBreakdown() {
  const sort = new URLSearchParams(location.search).get('breakdown');
  const query = new URLSearchParams({
    from: current.from,
    to: current.to,
    sort: Object.hasOwn(SORTS, sort) ? sort : 'bad',
  });
  const body = section.querySelector('.breakdown-body');
  try {
    const answer = await getJson(`/api/v1/slos/${encodeURIComponent(current.name)}/breakdown?${query}`);
    body.replaceChildren(...answer.groups.flatMap((group) => [groupSummary(group), groupTable(group)]));
  } catch (error) {
    // PromQL SLOs keep their series in the engine: the API says so, and so does the section.
    body.replaceChildren(h('p', { class: 'muted' }, error.message));
  }
  section.dataset.loaded = 'true';
}

function create() {
  const sort = h(
    'select',
    { id: 'breakdown-sort', 'aria-label': 'Rank series by' },
    Object.entries(SORTS).map(([value, text]) => h('option', { value }, text)),
  );
  const details = h(
    'details',
    { class: 'panel', id: 'breakdown' },
    h('summary', {}, h('h2', {}, 'What burns the budget')),
    h('p', { class: 'legend-note' }, 'Series ranked over the range of the charts; rank by ', sort, '.'),
    h('div', { class: 'breakdown-body' }),
  );
  const chosen = new URLSearchParams(location.search).get('breakdown');
  if (chosen !== null) {
    details.open = true;
    sort.value = Object.hasOwn(SORTS, chosen) ? chosen : 'bad';
  }
  details.addEventListener('toggle', () => {
    setQuery({ breakdown: details.open ? sort.value : '' });
    if (details.open) load();
  });
  sort.addEventListener('change', () => {
    setQuery({ breakdown: sort.value });
    load();
  });
  document.querySelector('section.charts').after(details);
  return details;
}

/** Shows (or refreshes, when open) the breakdown of an SLO (its `GET /api/v1/slos/:name` answer) over [from, to]. */
export async function renderBreakdown(status, from, to) {
  const { name } = status;
  // An SLO read with PromQL keeps its series in its engine: nothing here to rank (and no 422 to log).
  if (!status.breakdown_available) {
    if (section) section.hidden = true;
    return;
  }
  section ??= create();
  section.hidden = false;
  current = { name, from, to };
  if (section.open) await load();
}
