import { describe, expect, it } from 'vitest';
import { planWindow, WindowPlans } from '../../src/store/windows.js';

describe('window plan', () => {
  it('reads a short window from minute rows only', () => {
    expect(planWindow(100, 130, 0)).toEqual({
      minuteRanges: [[100, 130]],
      hourRange: undefined,
      effectiveFromMinute: 100,
    });
  });

  it('reads whole hours from rollups and the ragged edges from minutes', () => {
    expect(planWindow(90, 250, 0)).toEqual({
      minuteRanges: [
        [90, 120],
        [240, 250],
      ],
      hourRange: [2, 4],
      effectiveFromMinute: 90,
    });
  });

  it('aligns the far edge to its hour once minute rows there have aged out', () => {
    expect(planWindow(90, 250, 180)).toEqual({
      minuteRanges: [[240, 250]],
      hourRange: [1, 4],
      effectiveFromMinute: 60,
    });
  });

  it('needs no minute rows for hour-aligned windows', () => {
    expect(planWindow(120, 240, 0)).toEqual({
      minuteRanges: [],
      hourRange: [2, 4],
      effectiveFromMinute: 120,
    });
  });
});

describe('window plans of a tick (made once per window)', () => {
  it('answers each window with the plan planWindow makes, the same object while it is kept', () => {
    const plans = new WindowPlans();
    const asked = [
      [90, 250, 0],
      [90, 250, 180],
      [100, 130, 0],
    ] as const;
    const first = asked.map(([from, to, oldest]) => plans.plan(from, to, oldest));
    expect(first).toEqual(asked.map(([from, to, oldest]) => planWindow(from, to, oldest)));
    asked.forEach(([from, to, oldest], i) => {
      expect(plans.plan(from, to, oldest)).toBe(first[i]);
    });
  });

  it('keeps the latest 32 and makes the older ones again, still right', () => {
    const plans = new WindowPlans();
    const oldest = plans.plan(0, 500, 0);
    for (let i = 1; i <= 32; i++) plans.plan(i, 500, 0);
    const again = plans.plan(0, 500, 0);
    expect(again).not.toBe(oldest);
    expect(again).toEqual(planWindow(0, 500, 0));
    expect(plans.plan(32, 500, 0)).toEqual(planWindow(32, 500, 0));
  });
});
