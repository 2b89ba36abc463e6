import { describe, expect, it } from 'vitest';
import { planWindow } from '../../src/store/windows.js';

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
