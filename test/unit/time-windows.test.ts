import { describe, expect, it } from 'vitest';
import {
  activeAt,
  MAX_OCCURRENCES,
  occurrences,
  readTimeWindow,
  subtractIntervals,
} from '../../src/definitions/timeWindows.js';

const at = (iso: string) => Date.parse(iso);
const iso = (intervals: Array<{ startMs: number; endMs: number }>) =>
  intervals.map((i) => `${new Date(i.startMs).toISOString()}/${new Date(i.endMs).toISOString()}`);

describe('declared time windows', () => {
  it('expands a weekly window in its time zone, across a daylight-saving change', () => {
    const sunday = readTimeWindow({ cron: '0 2 * * 0', timeZone: 'Europe/Berlin', duration: '1h' });
    // Berlin is UTC+1 until 29 March 2026 and UTC+2 after; 02:00 does not exist on 29 March, so that
    // Sunday has no window (as cron skips it; docs/corrections.md).
    expect(iso(occurrences(sunday, at('2026-03-20T00:00:00Z'), at('2026-04-06T00:00:00Z')))).toEqual([
      '2026-03-22T01:00:00.000Z/2026-03-22T02:00:00.000Z',
      '2026-04-05T00:00:00.000Z/2026-04-05T01:00:00.000Z',
    ]);
    const three = readTimeWindow({ cron: '0 3 * * 0', timeZone: 'Europe/Berlin', duration: '1h' });
    expect(iso(occurrences(three, at('2026-03-28T00:00:00Z'), at('2026-03-30T00:00:00Z')))).toEqual([
      '2026-03-29T01:00:00.000Z/2026-03-29T02:00:00.000Z',
    ]);
    // Clipped to the range asked.
    expect(iso(occurrences(sunday, at('2026-03-22T01:30:00Z'), at('2026-03-23T00:00:00Z')))).toEqual([
      '2026-03-22T01:30:00.000Z/2026-03-22T02:00:00.000Z',
    ]);
  });

  it('finds the occurrence in force, whole: a year-end freeze from 20 December for 14 days', () => {
    const yearEnd = readTimeWindow({ cron: '0 0 20 12 *', timeZone: 'Europe/Berlin', duration: '14d' });
    expect(activeAt(yearEnd, at('2027-01-02T12:00:00Z'))).toEqual({
      startMs: at('2026-12-19T23:00:00Z'),
      endMs: at('2027-01-02T23:00:00Z'),
    });
    expect(activeAt(yearEnd, at('2027-01-03T00:00:00Z'))).toBeNull();
    const once = readTimeWindow({
      start: '2026-12-20T00:00',
      end: '2027-01-03T00:00',
      timeZone: 'Europe/Berlin',
    });
    expect(activeAt(once, at('2026-12-19T23:00:00Z'))).toEqual({
      startMs: at('2026-12-19T23:00:00Z'),
      endMs: at('2027-01-02T23:00:00Z'),
    });
    expect(activeAt(once, at('2026-12-19T22:59:59Z'))).toBeNull();
  });

  it('bounds every expansion', () => {
    const hourly = readTimeWindow({ cron: '0 * * * *', duration: '1m' });
    const found = occurrences(hourly, at('2026-01-01T00:00:00Z'), at('2028-01-01T00:00:00Z'));
    // The expansion reaches a day ahead of the range asked (for the next ticks): those are cut off here.
    expect(found.length).toBeLessThanOrEqual(MAX_OCCURRENCES);
    expect(found.length).toBeGreaterThan(MAX_OCCURRENCES - 25);
    // Newest first: a capped expansion loses the oldest occurrences, not the ones now.
    expect(found.at(-1)!.startMs).toBe(at('2027-12-31T23:00:00Z'));
  });

  it('cuts intervals out of others', () => {
    const hour = (h: number) => at(`2026-01-01T${String(h).padStart(2, '0')}:00:00Z`);
    expect(
      subtractIntervals(
        [{ startMs: hour(0), endMs: hour(10) }],
        [
          { startMs: hour(2), endMs: hour(3) },
          { startMs: hour(9), endMs: hour(11) },
        ],
      ),
    ).toEqual([
      { startMs: hour(0), endMs: hour(2) },
      { startMs: hour(3), endMs: hour(9) },
    ]);
  });
});
