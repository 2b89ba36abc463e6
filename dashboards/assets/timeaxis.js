// Round ticks for time axes, in the viewer's time zone: pure (no DOM, no chart.js), so unit tests run it with
// any zone's offsets. Times are epoch ms; "local" ms are the wall-clock reading as if it were UTC.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** Tick spacings the axis may use, finest first. */
export const TICK_STEPS = [
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  WEEK,
  2 * WEEK,
  4 * WEEK,
];
/** 1970-01-05, the first Monday of epoch time: weeks start on Mondays (ISO 8601). */
const FIRST_MONDAY = 4 * DAY;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** At most this many ticks whatever the caller asks: each is a loop turn. */
const MAX_TICKS = 50;

/** The browser's offset from UTC at a time, in minutes east (Berlin in winter: 60; Kolkata: 330). */
export const browserOffset = (ms) => -new Date(ms).getTimezoneOffset();

/** The UTC time of a local wall-clock time, correct across a DST change (two lookups, as the offset may move). */
function fromLocal(localMs, offsetAt) {
  const guess = localMs - offsetAt(localMs) * MINUTE;
  return localMs - offsetAt(guess) * MINUTE;
}

/**
 * Ticks over [fromMs, toMs] at the finest round spacing that gives at most `maxTicks`: multiples of the
 * spacing in local wall-clock time (minutes and hours), local midnights (days) or local Monday midnights (weeks).
 */
export function roundTicks(fromMs, toMs, maxTicks, offsetAt = browserOffset) {
  const limit = Math.max(1, Math.min(MAX_TICKS, Math.floor(maxTicks)));
  const span = toMs - fromMs;
  const stepMs = TICK_STEPS.find((step) => span / step <= limit) ?? TICK_STEPS.at(-1);
  const origin = stepMs >= WEEK ? FIRST_MONDAY : 0;
  const localFrom = fromMs + offsetAt(fromMs) * MINUTE;
  let local = origin + Math.ceil((localFrom - origin) / stepMs) * stepMs;
  const ticks = [];
  // A DST change can put a local time at the edge an hour out of range: skip it rather than stop.
  for (let turn = 0; turn <= limit + 2 && ticks.length < MAX_TICKS; turn++, local += stepMs) {
    const ms = fromLocal(local, offsetAt);
    if (ms > toMs) break;
    if (ms >= fromMs && ms !== ticks.at(-1)) ticks.push(ms);
  }
  return { stepMs, ticks };
}

const pad = (n) => String(n).padStart(2, '0');

/** A tick's label for its spacing: "14:30" within a day (the date at local midnight), "Dec 3" for days and weeks. */
export function tickLabel(ms, stepMs, offsetAt = browserOffset) {
  const local = new Date(ms + offsetAt(ms) * MINUTE);
  const date = `${MONTHS[local.getUTCMonth()]} ${local.getUTCDate()}`;
  if (stepMs >= DAY) return date;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
  return local.getUTCHours() === 0 && local.getUTCMinutes() === 0 ? `${date} ${time}` : time;
}

/** The zone shown on the axis: "UTC+05:30 Asia/Kolkata", "UTC−03:00 America/Sao_Paulo", "UTC". */
export function zoneLabel(offsetMinutes, zoneName) {
  const sign = offsetMinutes < 0 ? '−' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  if (zoneName === 'UTC' || zoneName === 'Etc/UTC') return offsetMinutes === 0 ? 'UTC' : offset;
  return zoneName ? `${offset} ${zoneName}` : offset;
}

/** Marker label rows under the chart's top edge; a label that finds no free row is left to hover. */
const LABEL_ROWS = 3;
/** A label row's height (px). */
export const LABEL_HEIGHT = 13;
const LABEL_GAP = 4;

/**
 * Places marker labels (`{ x, label, priority? }`, x in px) so none overlap: higher `priority` first (an
 * alert before deployments), then by time; each right of its line (left of it near the right edge), in the
 * first row where it clears every label already there. Returns the lines with `hidden`, and `box` where
 * shown. `width(text)` measures a label.
 */
export function placeLabels(lines, chartArea, width) {
  const rows = Array.from({ length: LABEL_ROWS }, () => []);
  const order = [...lines].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || a.x - b.x);
  return order.map((line) => {
    const w = width(line.label);
    const left = line.x + 3 + w > chartArea.right ? line.x - 3 - w : line.x + 3;
    const right = left + w;
    const row = rows.findIndex((taken) =>
      taken.every((box) => right + LABEL_GAP <= box.left || box.right + LABEL_GAP <= left),
    );
    if (row < 0 || left < chartArea.left) return { ...line, hidden: true };
    const top = chartArea.top + 2 + row * LABEL_HEIGHT;
    const box = { left, top, right, bottom: top + LABEL_HEIGHT - 2 };
    rows[row].push(box);
    return { ...line, hidden: false, box };
  });
}
