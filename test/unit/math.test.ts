import { describe, expect, it } from 'vitest';
import {
  allowedDowntimeMs,
  burnRate,
  burnRateTiers,
  burnWindows,
  errorBudget,
  sliRatio,
  tierState,
  timeToExhaustionMs,
} from '../../src/evaluate/math.js';

const DAY = 86_400_000;

describe('SLI and error budget against hand computation', () => {
  it('10,000 requests with 10 failures against 99.95%', () => {
    const good = 10_000 - 10;
    expect(sliRatio(good, 10_000)).toBe(0.999);
    const budget = errorBudget(0.9995, good, 10_000);
    expect(budget.allowed).toBe(5);
    expect(budget.consumed).toBe(10);
    expect(budget.remaining).toBe(-5);
    expect(budget.consumedRatio).toBe(2);
    expect(budget.remainingRatio).toBe(-1);
  });

  it('99.95% over 28 days allows 20.16 minutes of full outage', () => {
    expect(allowedDowntimeMs(0.9995, 28 * DAY) / 60_000).toBeCloseTo(20.16, 10);
  });

  it('99.999% over a 30-day month allows about 26 seconds', () => {
    expect(allowedDowntimeMs(0.99999, 30 * DAY) / 1000).toBeCloseTo(25.92, 6);
  });

  it('burn rate 1.0 spends exactly the window budget by the end of the window', () => {
    // 0.05% of requests failing for the whole window at 99.95% is burn rate 1 ...
    const valid = 2_000_000;
    const bad = valid * 0.0005;
    expect(burnRate(0.9995, valid - bad, valid)).toBeCloseTo(1, 12);
    // ... and leaves exactly nothing of the budget at the end.
    expect(errorBudget(0.9995, valid - bad, valid).remaining).toBeCloseTo(0, 9);
    // At rate 1 a full budget lasts one window.
    expect(timeToExhaustionMs(1, 1, 28 * DAY)).toBe(28 * DAY);
    expect(timeToExhaustionMs(0.5, 14.4, 30 * DAY)).toBeCloseTo((0.5 * 30 * DAY) / 14.4, 3);
  });

  it('has no NaN or infinity without data', () => {
    expect(sliRatio(0, 0)).toBeNull();
    expect(burnRate(0.999, 0, 0)).toBeNull();
    const budget = errorBudget(0.999, 0, 0);
    expect(budget.consumedRatio).toBeNull();
    expect(budget.remainingRatio).toBeNull();
    expect(budget.allowed).toBe(0);
    expect(timeToExhaustionMs(null, 3, DAY)).toBeNull();
    expect(timeToExhaustionMs(0.5, 0, DAY)).toBeNull();
  });
});

describe('multi-window multi-burn-rate tiers', () => {
  it('fire only when both windows burn past the factor with enough events', () => {
    const [page] = burnRateTiers(28 * DAY);
    expect(tierState(page!, { rate: 20, valid: 1000 }, { rate: 15 }, 10)).toBe('firing');
    expect(tierState(page!, { rate: 20, valid: 1000 }, { rate: 2 }, 10)).toBe('ok');
    expect(tierState(page!, { rate: 5, valid: 1000 }, { rate: 20 }, 10)).toBe('ok');
    expect(tierState(page!, { rate: 1000, valid: 2 }, { rate: 1000 }, 10)).toBe('insufficient-data');
    // Exactly at the factor is not past it.
    expect(tierState(page!, { rate: 14, valid: 1000 }, { rate: 14 }, 10)).toBe('ok');
  });
});

describe('burn windows remembered per SLO window length', () => {
  it('answers the same frozen windows and tiers for the same length, so no caller can change them for another', () => {
    const day = 86_400_000;
    const windows = burnWindows(28 * day);
    expect(burnWindows(28 * day)).toBe(windows);
    expect(burnRateTiers(28 * day)).toBe(burnRateTiers(28 * day));
    expect(burnWindows(7 * day)).not.toEqual(windows);
    expect(Object.isFrozen(windows) && windows.every((window) => Object.isFrozen(window))).toBe(true);
    expect(burnRateTiers(28 * day).every((tier) => Object.isFrozen(tier))).toBe(true);
    expect(() => (windows as Array<[string, number]>).push(['1m', 60_000])).toThrow(TypeError);
  });
});
