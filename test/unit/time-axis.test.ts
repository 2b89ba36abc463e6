import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../helpers/random.js';
import { ROOT } from '../helpers/service.js';

type OffsetAt = (ms: number) => number;
/** dashboards/assets/timeaxis.js, a browser module with no DOM use, loaded as the browser loads it. */
interface TimeAxis {
  roundTicks(
    fromMs: number,
    toMs: number,
    maxTicks: number,
    offsetAt: OffsetAt,
  ): { stepMs: number; ticks: number[] };
  tickLabel(ms: number, stepMs: number, offsetAt: OffsetAt): string;
  zoneLabel(offsetMinutes: number, zoneName: string): string;
  placeLabels(
    lines: Marker[],
    area: { left: number; right: number; top: number },
    width: (text: string) => number,
  ): Array<Marker & { hidden: boolean; box?: Box }>;
}
interface Marker {
  x: number;
  label: string;
  priority?: number;
}
interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}
const axis = (await import(pathToFileURL(join(ROOT, 'dashboards/assets/timeaxis.js')).href)) as TimeAxis;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const kolkata: OffsetAt = () => 330;
/** Europe/Berlin in 2026: UTC+2 from 29 March 01:00 UTC to 25 October 01:00 UTC, else UTC+1. */
const berlin: OffsetAt = (ms) => (ms >= Date.UTC(2026, 2, 29, 1) && ms < Date.UTC(2026, 9, 25, 1) ? 120 : 60);
/** The wall-clock minutes past midnight of a time in a zone. */
const wallMinutes = (ms: number, offsetAt: OffsetAt) =>
  ((((ms + offsetAt(ms) * MINUTE) % DAY) + DAY) % DAY) / MINUTE;

describe('round time-axis ticks', () => {
  it('falls on whole local hours in a zone with a half-hour offset', () => {
    // 07:09 to 13:46 UTC: 12:39 to 19:16 in Kolkata.
    const from = Date.UTC(2026, 11, 3, 7, 9);
    const { stepMs, ticks } = axis.roundTicks(from, from + 6 * HOUR + 37 * MINUTE, 8, kolkata);
    expect(stepMs).toBe(HOUR);
    expect(ticks.map((t) => wallMinutes(t, kolkata) / 60)).toEqual([13, 14, 15, 16, 17, 18, 19]);
    // In UTC those are half past.
    for (const t of ticks) expect(new Date(t).getUTCMinutes()).toBe(30);
    expect(axis.tickLabel(ticks[0]!, stepMs, kolkata)).toBe('13:00');
  });

  it('picks the finest of 5/10/15/30 min, 1/3/6/12 h, 1 d, 1 w spacings that stays within the limit', () => {
    const from = Date.UTC(2026, 11, 3, 7, 9);
    const spacing = (spanMs: number) => axis.roundTicks(from, from + spanMs, 8, kolkata).stepMs;
    expect(spacing(15 * MINUTE)).toBe(2 * MINUTE);
    expect(spacing(40 * MINUTE)).toBe(5 * MINUTE);
    expect(spacing(HOUR)).toBe(10 * MINUTE);
    expect(spacing(2 * HOUR)).toBe(15 * MINUTE);
    expect(spacing(4 * HOUR)).toBe(30 * MINUTE);
    expect(spacing(20 * HOUR)).toBe(3 * HOUR);
    expect(spacing(2 * DAY)).toBe(6 * HOUR);
    expect(spacing(4 * DAY)).toBe(12 * HOUR);
    expect(spacing(7 * DAY)).toBe(DAY);
    expect(spacing(28 * DAY)).toBe(7 * DAY);
  });

  it('puts days on local midnights and weeks on local Mondays, across a DST change', () => {
    // Over the autumn change in Berlin: every day tick is 00:00 local, whatever the offset that day.
    const from = Date.UTC(2026, 9, 21);
    const days = axis.roundTicks(from, from + 7 * DAY, 8, berlin);
    expect(days.stepMs).toBe(DAY);
    expect(days.ticks).toHaveLength(7);
    for (const t of days.ticks) expect(wallMinutes(t, berlin)).toBe(0);
    expect(days.ticks.map((t) => axis.tickLabel(t, DAY, berlin))).toContain('Oct 26');
    const weeks = axis.roundTicks(Date.UTC(2026, 10, 1), Date.UTC(2026, 11, 3), 8, berlin);
    expect(weeks.stepMs).toBe(7 * DAY);
    for (const t of weeks.ticks) {
      expect(wallMinutes(t, berlin)).toBe(0);
      expect(new Date(t + berlin(t) * MINUTE).getUTCDay()).toBe(1);
    }
  });

  it('labels a local midnight with its date and names the zone with its offset', () => {
    const midnight = Date.UTC(2026, 11, 3) - 330 * MINUTE;
    expect(axis.tickLabel(midnight, HOUR, kolkata)).toBe('Dec 3 00:00');
    expect(axis.zoneLabel(330, 'Asia/Kolkata')).toBe('UTC+05:30 Asia/Kolkata');
    expect(axis.zoneLabel(-180, 'America/Sao_Paulo')).toBe('UTC−03:00 America/Sao_Paulo');
    expect(axis.zoneLabel(0, 'UTC')).toBe('UTC');
  });

  it('stays bounded for any range and limit', () => {
    expect(axis.roundTicks(0, 100 * 365 * DAY, 1e9, kolkata).ticks.length).toBeLessThanOrEqual(50);
    expect(axis.roundTicks(0, 100 * 365 * DAY, 8, kolkata).ticks.length).toBeLessThanOrEqual(50);
    expect(axis.roundTicks(5, 5, 8, kolkata).ticks.length).toBeLessThanOrEqual(1);
  });
});

describe('marker label placement', () => {
  const area = { left: 40, right: 640, top: 10 };
  /** 6 px a character, as a small system font measures about. */
  const width = (text: string) => text.length * 6;
  const overlaps = (a: Box, b: Box) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

  it('never overlaps, whatever the lines, and keeps every box inside the plot', () => {
    const random = seededRandom(20);
    for (let round = 0; round < 200; round++) {
      const lines = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, i) => ({
        x: area.left + random() * (area.right - area.left),
        label: `v${i}.${'0'.repeat(Math.floor(random() * 6))}`,
      }));
      const boxes = axis
        .placeLabels(lines, area, width)
        .flatMap((placed) => (placed.box ? [placed.box] : []));
      expect(boxes.length).toBeGreaterThan(0);
      for (const [i, a] of boxes.entries()) {
        expect(a.left).toBeGreaterThanOrEqual(area.left);
        expect(a.right).toBeLessThanOrEqual(area.right);
        for (const b of boxes.slice(i + 1)) expect(overlaps(a, b)).toBe(false);
      }
    }
  });

  it('stacks close labels in rows, hides what has no room and places the alert first', () => {
    const releases = [0, 1, 2, 3, 4, 5].map((i) => ({ x: 300 + i * 4, label: `v3.1.${i}` }));
    const placed = axis.placeLabels([...releases, { x: 320, label: 'paged', priority: 1 }], area, width);
    expect(placed.find((p) => p.label === 'paged')!.box!.top).toBe(area.top + 2);
    expect(placed.filter((p) => !p.hidden)).toHaveLength(3);
    expect(placed.filter((p) => p.hidden)).toHaveLength(4);
    // Near the right edge a label goes left of its line.
    const [edge] = axis.placeLabels([{ x: area.right - 2, label: 'v9.9.9' }], area, width);
    expect(edge!.box!.right).toBeLessThan(area.right - 2);
  });
});
