import { describe, expect, it } from 'vitest';
import { burnRateText, fixedText, percentText } from '../../src/evaluate/numbers.js';

describe('figures for people', () => {
  it('prints a number with fixed decimals and its unit, n/a (or what is asked) without one', () => {
    expect(fixedText(14.4, 1)).toBe('14.4');
    expect(fixedText(0.123456, 2, 's')).toBe('0.12s');
    expect(fixedText(null, 2)).toBe('n/a');
    expect(fixedText(undefined, 2)).toBe('n/a');
    expect(fixedText(undefined, 2, '×', '—')).toBe('—');
  });

  it('prints ratios as percents and burn rates as multiples, 0 included', () => {
    expect(percentText(0.9995, 3)).toBe('99.950%');
    expect(percentText(0)).toBe('0.0%');
    expect(percentText(-0.25)).toBe('-25.0%');
    expect(percentText(undefined, 1, '—')).toBe('—');
    expect(burnRateText(14.4)).toBe('14.40×');
    expect(burnRateText(0, 1)).toBe('0.0×');
    expect(burnRateText(null)).toBe('n/a');
  });
});
