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
