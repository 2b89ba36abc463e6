import { DateTime, type DurationLikeObject } from 'luxon';
import type { CalendarUnit, WindowSpec } from '../model/slo.js';

/** The SLO window that contains a time: where it starts and where it ends (epoch ms). */
export interface WindowRange {
  startMs: number;
  endMs: number;
}

/** Luxon unit and multiplier for a calendar unit (a quarter is three calendar months). */
const STEP: Record<CalendarUnit, [keyof DurationLikeObject, number]> = {
  minute: ['minutes', 1],
  hour: ['hours', 1],
  day: ['days', 1],
  week: ['weeks', 1],
  month: ['months', 1],
  quarter: ['months', 3],
  year: ['years', 1],
};

/** The unit's natural first period when no start is given: Monday for weeks, 1 January for the rest. */
function defaultAnchor(unit: CalendarUnit, zone: string): DateTime {
  const anchor = DateTime.fromObject({ year: 2000, month: 1, day: 1 }, { zone });
  return unit === 'week' ? anchor.startOf('week') : anchor;
}

/**
 * The calendar period holding `nowMs`: periods of `count` units counted in local wall time from the anchor,
 * so a month is its real length (28 to 31 days) and a day across a DST change is 23 or 25 hours. Pure.
 */
export function calendarPeriod(spec: Extract<WindowSpec, { kind: 'calendar' }>, nowMs: number): WindowRange {
  const anchor = spec.anchor
    ? DateTime.fromFormat(spec.anchor, 'yyyy-MM-dd HH:mm:ss', { zone: spec.timeZone })
    : defaultAnchor(spec.unit, spec.timeZone);
  const [unit, per] = STEP[spec.unit];
  const size = per * spec.count;
  const now = DateTime.fromMillis(nowMs, { zone: spec.timeZone });
  const at = (k: number) => anchor.plus({ [unit]: k * size });
  let k = Math.floor(now.diff(anchor, unit).get(unit) / size);
  // diff in calendar units can be off by one around month ends and DST; settle on the right period.
  while (at(k).toMillis() > nowMs) k -= 1;
  while (at(k + 1).toMillis() <= nowMs) k += 1;
  return { startMs: at(k).toMillis(), endMs: at(k + 1).toMillis() };
}

/** The window ending at `nowMs` (rolling) or the calendar period holding it. */
export function windowRange(spec: WindowSpec, nowMs: number): WindowRange {
  return spec.kind === 'rolling' ? { startMs: nowMs - spec.ms, endMs: nowMs } : calendarPeriod(spec, nowMs);
}
