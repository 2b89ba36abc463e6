/** One line per figure, and the ratio to its baseline, so every bench reads the same way. */
export function report(
  name: string,
  value: number,
  unit: string,
  baseline?: { name: string; value: number },
) {
  const figure = `${name}: ${formatNumber(value)} ${unit}`;
  if (!baseline) {
    process.stdout.write(`${figure}\n`);
    return;
  }
  const ratio = value / baseline.value;
  process.stdout.write(
    `${figure} | baseline ${baseline.name}: ${formatNumber(baseline.value)} ${unit} | ratio ${ratio.toFixed(2)}\n`,
  );
}

export function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(3);
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
