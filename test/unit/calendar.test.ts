import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { calendarPeriod } from '../../src/evaluate/calendar.js';
import type { WindowSpec } from '../../src/model/slo.js';

type Calendar = Extract<WindowSpec, { kind: 'calendar' }>;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A wall-clock time in a zone, as epoch ms. */
const local = (text: string, zone: string) => DateTime.fromISO(text, { zone }).toMillis();
const iso = (ms: number, zone: string) =>
  DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true });

describe('calendar windows', () => {
  it.each([
    // Berlin leaves summer time on 27 October 2024: October has 31 days and one extra hour.
    [
      'Europe/Berlin',
      '2024-10-30T12:00',
      '2024-10-01T00:00:00+02:00',
      '2024-11-01T00:00:00+01:00',
      31 * DAY + HOUR,
    ],
    // Berlin enters summer time on 31 March 2024: March is an hour short.
    [
      'Europe/Berlin',
      '2024-03-31T23:59',
      '2024-03-01T00:00:00+01:00',
      '2024-04-01T00:00:00+02:00',
      31 * DAY - HOUR,
    ],
    ['Europe/Berlin', '2024-02-29T08:00', '2024-02-01T00:00:00+01:00', '2024-03-01T00:00:00+01:00', 29 * DAY],
    [
      'Europe/Berlin',
      '2023-02-28T23:59:59',
      '2023-02-01T00:00:00+01:00',
      '2023-03-01T00:00:00+01:00',
      28 * DAY,
    ],
    // New York leaves daylight time on 3 November 2024.
    [
      'America/New_York',
      '2024-11-03T01:30-05:00',
      '2024-11-01T00:00:00-04:00',
      '2024-12-01T00:00:00-05:00',
      30 * DAY + HOUR,
    ],
    [
      'America/New_York',
      '2024-03-10T03:30',
      '2024-03-01T00:00:00-05:00',
      '2024-04-01T00:00:00-04:00',
      31 * DAY - HOUR,
    ],
    [
      'America/New_York',
      '2024-04-30T23:59:59',
      '2024-04-01T00:00:00-04:00',
      '2024-05-01T00:00:00-04:00',
      30 * DAY,
    ],
  ])('%s month holding %s runs from %s to %s', (zone, at, start, end, length) => {
    const period = calendarPeriod(
      { kind: 'calendar', unit: 'month', count: 1, timeZone: zone },
      local(at, zone),
    );
    expect(iso(period.startMs, zone)).toBe(start);
    expect(iso(period.endMs, zone)).toBe(end);
    expect(period.endMs - period.startMs).toBe(length);
  });

  it('the first instant of a month belongs to it, the last millisecond before to the month before', () => {
    const spec: Calendar = { kind: 'calendar', unit: 'month', count: 1, timeZone: 'Europe/Berlin' };
    const first = local('2024-11-01T00:00', 'Europe/Berlin');
    expect(calendarPeriod(spec, first).startMs).toBe(first);
    expect(calendarPeriod(spec, first - 1).endMs).toBe(first);
  });

  it('weeks start on Monday at local midnight, 167 hours long across a DST start', () => {
    const spec: Calendar = { kind: 'calendar', unit: 'week', count: 1, timeZone: 'Europe/Berlin' };
    const period = calendarPeriod(spec, local('2024-03-31T12:00', 'Europe/Berlin'));
    expect(iso(period.startMs, 'Europe/Berlin')).toBe('2024-03-25T00:00:00+01:00');
    expect(period.endMs - period.startMs).toBe(7 * DAY - HOUR);
  });

  it('quarters and years follow the calendar', () => {
    const quarter = calendarPeriod(
      { kind: 'calendar', unit: 'quarter', count: 1, timeZone: 'America/New_York' },
      local('2024-05-15T00:00', 'America/New_York'),
    );
    expect(iso(quarter.startMs, 'America/New_York')).toBe('2024-04-01T00:00:00-04:00');
    expect(iso(quarter.endMs, 'America/New_York')).toBe('2024-07-01T00:00:00-04:00');
    const year = calendarPeriod(
      { kind: 'calendar', unit: 'year', count: 1, timeZone: 'Europe/Berlin' },
      local('2024-12-31T23:59', 'Europe/Berlin'),
    );
    expect(year.endMs - year.startMs).toBe(366 * DAY);
  });

  it('counts periods from an OpenSLO startTime: 1w from Saturday noon in New York', () => {
    const spec: Calendar = {
      kind: 'calendar',
      unit: 'week',
      count: 1,
      timeZone: 'America/New_York',
      anchor: '2022-01-01 12:00:00',
    };
    const period = calendarPeriod(spec, local('2024-11-04T09:00', 'America/New_York'));
    expect(iso(period.startMs, 'America/New_York')).toBe('2024-11-02T12:00:00-04:00');
    expect(iso(period.endMs, 'America/New_York')).toBe('2024-11-09T12:00:00-05:00');
  });

  it('counts multi-month periods from their start: 2 months from 15 January', () => {
    const spec: Calendar = {
      kind: 'calendar',
      unit: 'month',
      count: 2,
      timeZone: 'Europe/Berlin',
      anchor: '2024-01-15 00:00:00',
    };
    const period = calendarPeriod(spec, local('2024-05-14T23:00', 'Europe/Berlin'));
    expect(iso(period.startMs, 'Europe/Berlin')).toBe('2024-03-15T00:00:00+01:00');
    expect(iso(period.endMs, 'Europe/Berlin')).toBe('2024-05-15T00:00:00+02:00');
  });
});
