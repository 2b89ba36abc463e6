// Time navigation shared by the pages with time charts: a range is a preset (`?range=7d`) or a custom span
// (`?from=&to=`, RFC 3339), kept in the URL so a reload restores it; presets, from/to inputs in the viewer's
// time zone, and a reset after a zoom. Zooms push a history entry, so the browser's back undoes them.
import { h } from './common.js';

/** Spans shorter than this are widened around their middle: the API's finest step is a minute. */
const MIN_SPAN_MS = 120_000;
/** The widest custom span: the API keeps a year at most. */
const MAX_SPAN_MS = 400 * 86_400_000;

/** A custom range, or null unless both are times, from before to, at most MAX_SPAN_MS apart. */
function validRange(from, to) {
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to || to - from > MAX_SPAN_MS) return null;
  return { from, to };
}

/** `from` and `to` of the URL: RFC 3339 or Unix seconds, as the API takes them. */
function customRange(fromText, toText) {
  const parse = (text) => (/^\d+$/.test(text ?? '') ? Number(text) * 1000 : Date.parse(text ?? ''));
  return validRange(parse(fromText), parse(toText));
}

/** The range in the URL: `{ preset }` (a key of `presets`), `{ from, to }`, or `{ preset: fallback }`. */
export function readRange(presets, fallback) {
  const params = new URLSearchParams(location.search);
  const key = params.get('range');
  if (key !== null && key in presets) return { preset: key };
  return customRange(params.get('from'), params.get('to')) ?? { preset: fallback };
}

/** The [from, to] of a range now; a preset of null span (a page's own default) gives null. */
export function periodOf(range, presets, nowMs = Date.now()) {
  if (range.preset === undefined) return { from: range.from, to: range.to };
  const span = presets[range.preset];
  return span ? { from: nowMs - span, to: nowMs } : null;
}

/** A zoom's range: whole seconds, at least MIN_SPAN_MS wide. */
export function zoomRange(from, to) {
  const middle = (from + to) / 2;
  const half = Math.max(to - from, MIN_SPAN_MS) / 2;
  return { from: Math.floor((middle - half) / 1000) * 1000, to: Math.ceil((middle + half) / 1000) * 1000 };
}

/** Writes a range to the URL, keeping the other parameters; `push` adds a history entry (zooms do). */
export function writeRange(range, push = false) {
  const query = new URLSearchParams(location.search);
  for (const name of ['range', 'from', 'to']) query.delete(name);
  if (range.preset !== undefined) query.set('range', range.preset);
  else {
    query.set('from', new Date(range.from).toISOString().replace('.000Z', 'Z'));
    query.set('to', new Date(range.to).toISOString().replace('.000Z', 'Z'));
  }
  const url = `?${query}`;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

/** An epoch-ms time as a datetime-local input value, in the viewer's zone. */
function localInput(ms) {
  const local = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/**
 * Time navigation for a page: preset buttons, from/to inputs (the viewer's zone) with Apply, and Reset zoom
 * while a custom range is shown. `onChange(range)` runs after each change (the URL already updated); the
 * browser's back and forward restore earlier ranges through the same call.
 */
export class TimeNav {
  constructor(container, { presets, fallback, labels = {}, onChange }) {
    this.presets = presets;
    this.onChange = onChange;
    this.range = readRange(presets, fallback);
    this.lastPreset = this.range.preset ?? fallback;
    this.buttons = Object.keys(presets).map((key) => {
      const button = h('button', { type: 'button', 'data-range': key }, labels[key] ?? key);
      button.addEventListener('click', () => this.set({ preset: key }));
      return button;
    });
    this.from = h('input', { type: 'datetime-local', id: 'range-from', 'aria-label': 'From' });
    this.to = h('input', { type: 'datetime-local', id: 'range-to', 'aria-label': 'To' });
    const apply = h('button', { type: 'button', id: 'range-apply' }, 'Apply');
    apply.addEventListener('click', () => this.applyInputs());
    this.from.addEventListener('input', () => this.from.setCustomValidity(''));
    this.reset = h('button', { type: 'button', id: 'range-reset' }, 'Reset zoom');
    this.reset.addEventListener('click', () => this.set({ preset: this.lastPreset }, true));
    container.replaceChildren(
      h('legend', { class: 'muted' }, 'Range'),
      ...this.buttons,
      h('span', { class: 'custom-range' }, this.from, '–', this.to, apply, this.reset),
    );
    addEventListener('popstate', () => this.set(readRange(presets, fallback), null));
    this.mark();
  }

  /** Sets the range; `push` true adds a history entry, false replaces it, null leaves the URL alone. */
  set(range, push = false) {
    this.range = range;
    if (range.preset !== undefined) this.lastPreset = range.preset;
    if (push !== null) writeRange(range, push);
    this.mark();
    this.onChange(range);
  }

  /** A drag on a chart: the span between the two times, as a history entry. */
  zoom(from, to) {
    this.set(zoomRange(Math.min(from, to), Math.max(from, to)), true);
  }

  /** The [from, to] now, or null for a preset without a span (the page's own default). */
  period(nowMs = Date.now()) {
    return periodOf(this.range, this.presets, nowMs);
  }

  /** Shows the period the charts show in the from/to inputs, unless the viewer is editing them. */
  show(period) {
    if (this.from.matches(':focus') || this.to.matches(':focus')) return;
    this.from.value = localInput(period.from);
    this.to.value = localInput(period.to);
  }

  mark() {
    for (const button of this.buttons)
      button.setAttribute('aria-pressed', String(button.dataset.range === this.range.preset));
    this.reset.hidden = this.range.preset !== undefined;
  }

  applyInputs() {
    // datetime-local values carry no zone: Date reads them in the viewer's.
    const from = new Date(this.from.value).getTime();
    const to = this.to.value ? new Date(this.to.value).getTime() : Date.now();
    const range = validRange(from, to);
    if (range) this.set(range, true);
    else {
      this.from.setCustomValidity('From must be before To, within 400 days');
      this.from.reportValidity();
    }
  }
}

/**
 * Where a chart of an SLO window should start so a few hours of data are not squashed against the right
 * edge: when the first step with events comes later than a tenth into [fromMs, toMs], a tenth of the data's
 * span (at least 15 minutes) before it; else null (the data fills the window). `points` as the timeseries
 * API answers them, `stepMs` its step.
 */
export function fittedFrom(points, stepMs, fromMs, toMs) {
  const first = points.find((p) => p.valid > 0);
  if (!first) return null;
  const dataFrom = Date.parse(first.t) - stepMs;
  if (dataFrom - fromMs <= (toMs - fromMs) / 10) return null;
  return Math.max(fromMs, dataFrom - Math.max(15 * 60_000, (toMs - dataFrom) / 10));
}
