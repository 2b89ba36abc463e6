/**
 * Significant digits a number keeps in JSON: far past any objective (99.99999%) or ratio anyone reads, and short
 * of the last digits where binary floating point leaves its noise (99.9 / 100 = 0.9990000000000001), also after
 * a subtraction (1 − 0.9995 = 0.0004999999999999449).
 */
const SIGNIFICANT_DIGITS = 12;

/** A number as people wrote or computed it: 0.9990000000000001 → 0.999. Integers (times, counts) stay as they are. */
export function tidyNumber(value: number): number {
  return Number.isInteger(value) || !Number.isFinite(value)
    ? value
    : Number(value.toPrecision(SIGNIFICANT_DIGITS));
}

/** Every number in a JSON-shaped answer, tidied; walks at most `depth` levels (answers are shallow). */
export function tidyNumbers(value: unknown, depth = 32): unknown {
  if (typeof value === 'number') return tidyNumber(value);
  if (depth === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => tidyNumbers(item, depth - 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const tidied: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) tidied[key] = tidyNumbers(item, depth - 1);
  return tidied;
}

/**
 * A number with fixed decimals and its unit (`14.40×`), `missing` without one: the one way the CLI, gate
 * reasons, chat messages and the demo print figures for people.
 */
export function fixedText(
  value: number | null | undefined,
  digits: number,
  unit = '',
  missing = 'n/a',
): string {
  return value === null || value === undefined ? missing : `${value.toFixed(digits)}${unit}`;
}

/** A ratio as a percent with fixed decimals (0.9995 → `99.950%`), `n/a` without one. */
export function percentText(ratio: number | null | undefined, digits = 1, missing = 'n/a'): string {
  return fixedText(ratio === null || ratio === undefined ? ratio : ratio * 100, digits, '%', missing);
}

/** A burn rate as a multiple of the budget's even pace (`14.40×`), `n/a` without one. */
export function burnRateText(rate: number | null | undefined, digits = 2, missing = 'n/a'): string {
  return fixedText(rate, digits, '×', missing);
}
