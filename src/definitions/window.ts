import { IANAZone } from 'luxon';
import { formatDuration } from '../config/duration.js';
import type { CalendarUnit, WindowSpec } from '../model/slo.js';

const DAY_MS = 86_400_000;

/** Nominal length of one calendar unit, as OpenSLO's duration shorthand counts it (a month is 30 days). */
export const NOMINAL_UNIT_MS: Record<CalendarUnit, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: DAY_MS,
  week: 7 * DAY_MS,
  month: 30 * DAY_MS,
  quarter: 90 * DAY_MS,
  year: 365 * DAY_MS,
};

export function isTimeZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

export function nominalWindowMs(spec: WindowSpec): number {
  return spec.kind === 'rolling' ? spec.ms : NOMINAL_UNIT_MS[spec.unit] * spec.count;
}

/** `28d`, or `1 month (Europe/Berlin)`, or `2 weeks from 2022-01-01 12:00:00 (America/New_York)`. */
export function describeWindow(spec: WindowSpec): string {
  if (spec.kind === 'rolling') return formatDuration(spec.ms);
  const unit = spec.count === 1 ? spec.unit : `${spec.unit}s`;
  const from = spec.anchor ? ` from ${spec.anchor}` : '';
  return `${spec.count} ${unit}${from} (${spec.timeZone})`;
}
