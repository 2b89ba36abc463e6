import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import Type, { type Static } from 'typebox';
import { formatDuration, parseDuration } from '../config/duration.js';
import type { Interval, TimeWindow } from '../model/timeWindow.js';
import { isTimeZone } from './window.js';

const DAY_MS = 86_400_000;
/** Longest one-off window and longest occurrence: a year and a day (a year-end freeze fits many times over). */
export const MAX_WINDOW_MS = 366 * DAY_MS;
/** Times outside 2000–2100 are typing mistakes, not planned maintenance. */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(2100, 0, 1);
/** Recurring windows may start at most hourly, so a year of them stays within MAX_OCCURRENCES. */
const MIN_RECURRENCE_MS = 3_600_000;
const SPACING_CHECK_FROM_MS = Date.UTC(2026, 0, 1);
const SPACING_CHECK_STEPS = 200;
/** Occurrences expanded per query at most (a year of hourly ones), newest first: the bound on every expansion. */
export const MAX_OCCURRENCES = 9_000;

/** The YAML/JSON form. Times are ISO 8601; without an offset they are wall time in `timeZone` (default UTC). */
export const TimeWindowSchema = Type.Union([
  Type.Object(
    {
      start: Type.String({ minLength: 1, maxLength: 64 }),
      end: Type.String({ minLength: 1, maxLength: 64 }),
      timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      cron: Type.String({ minLength: 1, maxLength: 128 }),
      duration: Type.String({ minLength: 1, maxLength: 32 }),
      timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    { additionalProperties: false },
  ),
]);
export type TimeWindowInput = Static<typeof TimeWindowSchema>;

/** A field of a time window that is wrong, and why (callers turn it into a file:line or a 400). */
export class TimeWindowError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

function parseTime(field: string, text: string, timeZone: string): number {
  const time = DateTime.fromISO(text, { zone: timeZone });
  if (!time.isValid) throw new TimeWindowError(field, `expected an ISO 8601 time, got "${text}"`);
  const ms = time.toMillis();
  if (ms < EARLIEST_MS || ms >= LATEST_MS)
    throw new TimeWindowError(field, `must lie between 2000 and 2100, got "${text}"`);
  return ms;
}

const cronOf = (cron: string, timeZone: string, atMs: number) =>
  CronExpressionParser.parse(cron, { tz: timeZone, currentDate: atMs, strict: false });

/** Validates a declared window; fields are named relative to it (`start`, `cron`, ...). */
export function readTimeWindow(input: TimeWindowInput): TimeWindow {
  const timeZone = input.timeZone ?? 'UTC';
  if (!isTimeZone(timeZone)) throw new TimeWindowError('timeZone', `unknown IANA time zone "${timeZone}"`);
  if ('start' in input) {
    const startMs = parseTime('start', input.start, timeZone);
    const endMs = parseTime('end', input.end, timeZone);
    if (endMs <= startMs) throw new TimeWindowError('end', 'must be after start');
    if (endMs - startMs > MAX_WINDOW_MS)
      throw new TimeWindowError('end', `the window may last at most ${formatDuration(MAX_WINDOW_MS)}`);
    return { kind: 'once', startMs, endMs };
  }
  const durationMs = parseDuration(input.duration);
  if (durationMs === undefined)
    throw new TimeWindowError('duration', `expected a duration like 1h or 14d, got "${input.duration}"`);
  if (durationMs > MAX_WINDOW_MS)
    throw new TimeWindowError('duration', `may be at most ${formatDuration(MAX_WINDOW_MS)}`);
  let expression: ReturnType<typeof cronOf>;
  try {
    expression = cronOf(input.cron, timeZone, SPACING_CHECK_FROM_MS);
  } catch (error) {
    throw new TimeWindowError('cron', `not a cron expression: ${(error as Error).message}`);
  }
  // The starts of a sample week must be an hour apart. Yearly crons take ~25 ms a step in cron-parser, so the
  // sample is bounded in time and steps, not in occurrences; MAX_OCCURRENCES bounds what it misses.
  let previous = Number.NEGATIVE_INFINITY;
  for (let step = 0; step < SPACING_CHECK_STEPS && expression.hasNext(); step++) {
    const startMs = expression.next().getTime();
    if (startMs - previous < MIN_RECURRENCE_MS)
      throw new TimeWindowError('cron', 'may start at most once an hour');
    if (startMs > SPACING_CHECK_FROM_MS + 8 * DAY_MS) break;
    previous = startMs;
  }
  return { kind: 'recurring', cron: input.cron, timeZone, durationMs };
}

/** The declared form again, for answers and the store. */
export function timeWindowInput(window: TimeWindow): TimeWindowInput {
  if (window.kind === 'once')
    return { start: new Date(window.startMs).toISOString(), end: new Date(window.endMs).toISOString() };
  return { cron: window.cron, duration: formatDuration(window.durationMs), timeZone: window.timeZone };
}

/** Expanded occurrences of recurring windows, per window object, over the range last expanded. */
const expanded = new WeakMap<TimeWindow, { fromMs: number; toMs: number; intervals: Interval[] }>();
/** Expansions reach this far ahead, so the next ticks reuse them (a year of hourly starts costs 0.3 s). */
const EXPAND_AHEAD_MS = DAY_MS;

/**
 * Where a window is in force within [fromMs, toMs), clipped to it, sorted and merged. Recurring windows are
 * expanded newest first and at most MAX_OCCURRENCES times, so a bound holds whatever range is asked; the
 * expansion is kept and reused while later asks fall inside it.
 */
export function occurrences(window: TimeWindow, fromMs: number, toMs: number): Interval[] {
  if (toMs <= fromMs) return [];
  if (window.kind === 'once') return clip([window], fromMs, toMs);
  return clip(expandedOver(window, fromMs, toMs), fromMs, toMs);
}

/** The whole occurrences of a recurring window overlapping [fromMs, toMs), from the kept expansion if it covers them. */
function expandedOver(window: TimeWindow & { kind: 'recurring' }, fromMs: number, toMs: number): Interval[] {
  let cached = expanded.get(window);
  if (!cached || fromMs < cached.fromMs || toMs > cached.toMs) {
    const aheadMs = toMs + EXPAND_AHEAD_MS;
    cached = { fromMs, toMs: aheadMs, intervals: expand(window, fromMs, aheadMs) };
    expanded.set(window, cached);
  }
  return cached.intervals;
}

function expand(window: TimeWindow & { kind: 'recurring' }, fromMs: number, toMs: number): Interval[] {
  const found: Interval[] = [];
  const expression = cronOf(window.cron, window.timeZone, toMs);
  for (let i = 0; i < MAX_OCCURRENCES && expression.hasPrev(); i++) {
    const startMs = expression.prev().getTime();
    if (startMs + window.durationMs <= fromMs) break;
    found.push({ startMs, endMs: startMs + window.durationMs });
  }
  return mergeIntervals(found);
}

/** The parts of sorted intervals inside [fromMs, toMs). */
export function clip(intervals: readonly Interval[], fromMs: number, toMs: number): Interval[] {
  const inside: Interval[] = [];
  for (const interval of intervals) {
    const startMs = Math.max(interval.startMs, fromMs);
    const endMs = Math.min(interval.endMs, toMs);
    if (startMs < endMs) inside.push({ startMs, endMs });
  }
  return inside;
}

/** Sorted, overlapping and touching intervals joined. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.startMs - b.startMs);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged.at(-1);
    if (last && interval.startMs <= last.endMs) last.endMs = Math.max(last.endMs, interval.endMs);
    else merged.push({ ...interval });
  }
  return merged;
}

/** `intervals` with every part that `minus` covers cut out (both sorted and merged). */
export function subtractIntervals(intervals: readonly Interval[], minus: readonly Interval[]): Interval[] {
  const left: Interval[] = [];
  for (const interval of intervals) {
    let startMs = interval.startMs;
    for (const cut of minus) {
      if (cut.endMs <= startMs || cut.startMs >= interval.endMs) continue;
      if (cut.startMs > startMs) left.push({ startMs, endMs: cut.startMs });
      startMs = Math.max(startMs, cut.endMs);
    }
    if (startMs < interval.endMs) left.push({ startMs, endMs: interval.endMs });
  }
  return left;
}

/**
 * The occurrence in force at `atMs` (whole, not clipped; overlapping occurrences joined), or null. Recurring
 * windows read the kept expansion: the gate asks on every decision, and expanding a yearly cron takes 20 ms.
 */
export function activeAt(window: TimeWindow, atMs: number): Interval | null {
  const intervals =
    window.kind === 'once' ? [window] : expandedOver(window, atMs - window.durationMs, atMs + 1);
  const found = intervals.find((i) => i.startMs <= atMs && atMs < i.endMs);
  return found ? { startMs: found.startMs, endMs: found.endMs } : null;
}
