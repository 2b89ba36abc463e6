// Helpers shared by the dashboard pages: fetching the JSON API, formatting SRE numbers, building DOM.

/** GET a JSON API path; rejects with the API's own message on an error status. */
export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(body?.message ?? `${path}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

/** Like getJson, but null when the route does not exist in this build (a feature not there yet). */
export async function getOptionalJson(path) {
  try {
    return await getJson(path);
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/** Creates an element: h('td', { class: 'num' }, 'text', child). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') element.textContent = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** 0.99953 → "99.953%": enough digits to tell 99.9 from 99.95. */
export function percent(ratio, digits = 3) {
  if (ratio === null || ratio === undefined) return '—';
  const text = (ratio * 100).toFixed(digits);
  // Trailing zeros go only after a decimal point: 10% stays 10%.
  return `${digits > 0 ? text.replace(/\.?0+$/, '') : text}%`;
}

export function rate(value) {
  if (value === null || value === undefined) return '—';
  if (value >= 100) return `${value.toFixed(0)}×`;
  if (value >= 10) return `${value.toFixed(1)}×`;
  return `${value.toFixed(2)}×`;
}

/** Seconds as the largest two units: 93784 → "1d 2h". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const units = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ') || '0s';
}

/** How long ago an ISO time was, for freshness columns. */
export function ago(iso, nowMs = Date.now()) {
  if (!iso) return 'never';
  const seconds = Math.max(0, (nowMs - Date.parse(iso)) / 1000);
  return seconds < 5 ? 'just now' : `${duration(seconds)} ago`;
}

/** Event counts; small fractional ones (a budget's allowed bad events, a composite's weighted counts) keep a decimal. */
export function count(value) {
  if (value === null || value === undefined) return '—';
  if (Number.isInteger(value) || Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(1);
}

export function badge(text, className) {
  return h('span', { class: `badge ${className}` }, text);
}

/**
 * The budget-remaining bar: green, amber under 25%; spent or overspent, the whole bar and the number red, never
 * the grey of no data (a dashed bar and a dash). The fill's width is set through CSSOM (CSP-safe).
 */
export function budgetBar(ratio) {
  const fill = h('div', { class: 'fill' });
  const known = ratio !== null && ratio !== undefined;
  fill.style.width = `${((known ? Math.max(0, Math.min(1, ratio)) : 0) * 100).toFixed(1)}%`;
  if (known && ratio > 0 && ratio < 0.25) fill.classList.add('low');
  return h(
    'div',
    { class: `budget${!known ? ' no-data' : ratio <= 0 ? ' spent' : ''}` },
    h('div', { class: 'bar' }, fill),
    h('span', { class: 'value' }, percent(ratio, 1)),
  );
}

/** A CSS custom property of the current theme, so charts follow light and dark. */
export function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Marks the nav link of the current page. */
export function markNav(path) {
  for (const link of document.querySelectorAll('header.top nav a')) {
    if (link.getAttribute('href') === path) link.setAttribute('aria-current', 'page');
  }
}

function showError(container, error) {
  container.replaceChildren(
    h('div', { class: 'panel error-box', role: 'alert' }, String(error.message ?? error)),
  );
}

/**
 * Wraps a page's load function: errors show in #error instead of breaking the page; on success the time is
 * shown and `data-loaded` set on <body> (what the browser tests wait for).
 */
export function pageLoader(load) {
  return async () => {
    const errors = document.getElementById('error');
    try {
      await load();
      errors.replaceChildren();
      const updated = document.getElementById('updated');
      if (updated) updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
      document.body.dataset.loaded = 'true';
    } catch (error) {
      showError(errors, error);
    }
  };
}

/** Sets (or, for an empty value, removes) query parameters in the URL without reloading. */
export function setQuery(values) {
  const query = new URLSearchParams(location.search);
  for (const [name, value] of Object.entries(values)) {
    if (value) query.set(name, value);
    else query.delete(name);
  }
  const text = query.toString();
  history.replaceState(null, '', text ? `?${text}` : location.pathname);
}

/** Fills a <select> with "All …" and the given values, keeping `current` chosen. */
export function fillSelect(select, allLabel, values, current) {
  select.replaceChildren(
    h('option', { value: '' }, allLabel),
    ...values.map((value) => h('option', { value, selected: value === current }, value)),
  );
}

/** A link that opens outside the dashboard (runbooks), or plain text when the value is not an http(s) URL. */
export function externalLink(url, text = url) {
  if (!url) return h('span', { class: 'muted' }, '—');
  if (!/^https?:\/\//i.test(url)) return h('span', {}, url);
  return h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, text);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Trend buckets over [fromMs, toMs]: 4-hour steps for a day, days up to a week, weeks beyond (at most 13
 * for 90 days), so a trend is a handful of points and never a request per hour.
 */
export function trendBuckets(fromMs, toMs) {
  const span = toMs - fromMs;
  const step = span <= DAY_MS ? 4 * HOUR_MS : span <= 7 * DAY_MS ? DAY_MS : 7 * DAY_MS;
  const buckets = [];
  for (let end = toMs; end > fromMs && buckets.length < 100; end -= step) {
    buckets.unshift({ from: Math.max(fromMs, end - step), to: end });
  }
  return buckets;
}

export const iso = (ms) => new Date(ms).toISOString();

/** A page's filters as the URL gives them: each a string ('' for all). */
export function urlState(filterIds) {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(filterIds.map((id) => [id, params.get(id) ?? '']));
}

/**
 * Wires a page's filter selects (ids as in `state`), each change kept in the URL and followed by `refresh`,
 * marks its nav link, loads it and refreshes it every minute. (The range is its TimeNav's.)
 */
export function startFilteredPage(path, state, filterIds, refresh) {
  for (const id of filterIds) {
    document.getElementById(id).addEventListener('change', (event) => {
      state[id] = event.target.value;
      setQuery({ [id]: state[id] });
      refresh();
    });
  }
  markNav(path);
  refresh();
  setInterval(refresh, 60_000);
}

/** A status tile: label, big value, a line of detail. */
export function tile(label, value, detail, className = '') {
  return h(
    'div',
    { class: 'tile' },
    h('div', { class: 'label' }, label),
    h('div', { class: `value ${className}` }, value),
    h('div', { class: 'detail' }, detail),
  );
}
