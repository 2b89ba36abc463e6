import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/service.js';

interface Point {
  t: string;
  valid: number;
}
/** dashboards/assets/timenav.js, loaded as the browser loads it (its DOM use is in functions, not at load). */
interface TimeNav {
  fittedFrom(points: Point[], stepMs: number, fromMs: number, toMs: number): number | null;
  zoomRange(from: number, to: number): { from: number; to: number };
}
const nav = (await import(pathToFileURL(join(ROOT, 'dashboards/assets/timenav.js')).href)) as TimeNav;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TO = Date.UTC(2026, 11, 3, 12);
const FROM = TO - 28 * DAY;
/** Hourly points of a 28-day window whose events start `dataHours` before its end (valid counts the window). */
const window = (dataHours: number | null) =>
  Array.from({ length: 28 * 24 }, (_, i) => {
    const at = FROM + (i + 1) * HOUR;
    return {
      t: new Date(at).toISOString(),
      valid: dataHours !== null && at > TO - dataHours * HOUR ? 100 : 0,
    };
  });

describe('the default range fitted to the data', () => {
  it('starts a tenth of the data span (at least 15 minutes) before five hours of data', () => {
    // The first step with events ends 4 h before `to`, so the data starts 5 h back (one step earlier).
    expect(nav.fittedFrom(window(4.5), HOUR, FROM, TO)).toBe(TO - 5 * HOUR - 30 * MINUTE);
    expect(nav.fittedFrom(window(0.5), HOUR, FROM, TO)).toBe(TO - HOUR - 15 * MINUTE);
  });

  it('keeps the window when the data fills most of it, or when there is none', () => {
    expect(nav.fittedFrom(window(26 * 24), HOUR, FROM, TO)).toBeNull();
    expect(nav.fittedFrom(window(null), HOUR, FROM, TO)).toBeNull();
  });

  it('never starts before the window', () => {
    const from = nav.fittedFrom(window(20 * 24), HOUR, FROM, TO);
    expect(from).toBeGreaterThanOrEqual(FROM);
    expect(from).toBeLessThan(TO - 20 * DAY);
  });
});

describe('a zoom range', () => {
  it('is whole seconds and at least two minutes wide, around the drag', () => {
    expect(nav.zoomRange(TO, TO + 10_000)).toEqual({ from: TO - 55_000, to: TO + 65_000 });
    expect(nav.zoomRange(TO + 1_500, TO + HOUR + 200)).toEqual({ from: TO + 1_000, to: TO + HOUR + 1_000 });
  });
});
