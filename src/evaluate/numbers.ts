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

/** A ratio as a percent with fixed decimals (0.9995 → `99.950%`), `n/a` without one: CLI and gate reasons. */
export function percentText(ratio: number | null | undefined, digits = 1): string {
  return ratio === null || ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(digits)}%`;
}
