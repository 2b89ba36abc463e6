/**
 * Draws the cost curves of bench/curves.bench.ts (its curves.json) with chart.js in Debian's chromium through
 * playwright-core, one PNG per curve: a panel per figure on log-log axes, where a dashed line of slope 1 from
 * the first point marks linear growth (a curve under it grows slower) and a red line the #23 target.
 *
 *   npx tsx bench/curvesChart.ts docs/benchmarks/curves.json   (redraws without measuring again)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BrowserHarness } from '../test/helpers/browser.js';

export interface CurvesFile {
  measuredAt: string;
  metrics: Array<{ name: string; unit: string; target?: number }>;
  curves: Record<string, Array<{ slos: number; series: number; values: number[]; load: number[] }>>;
}

const TITLES: Record<string, string> = {
  slos: 'SLOs over as many series (28 days)',
  series: 'route series under a fixed SLO count (28 days)',
};

/** Draws every curve of `jsonPath` into `outDir` as curves-<curve>.png; returns the files written. */
export async function drawCurves(jsonPath: string, outDir: string): Promise<string[]> {
  const file = JSON.parse(readFileSync(jsonPath, 'utf8')) as CurvesFile;
  const chartJs = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
  const browser = await BrowserHarness.launch();
  try {
    const written: string[] = [];
    for (const [along, points] of Object.entries(file.curves)) {
      if (points.length < 2) continue;
      const { page, context } = await browser.page({ width: 1500, height: 1200 });
      try {
        await page.setContent(`<!doctype html><html><body style="font-family: sans-serif; margin: 12px">
          <div id="grid" style="display: grid; grid-template-columns: repeat(4, 360px); gap: 12px"></div>
          <style>h1 { font-size: 16px }</style></body></html>`);
        await page.addScriptTag({ path: chartJs });
        await page.addScriptTag({ path: join(import.meta.dirname, 'curvesChart.page.js') });
        await page.evaluate(
          `drawCurvePanels(${JSON.stringify({ along, title: TITLES[along] ?? along, file })})`,
        );
        const target = join(outDir, `curves-${along}.png`);
        await page.locator('body').screenshot({ path: target });
        written.push(target);
      } finally {
        await context.close();
      }
    }
    return written;
  } finally {
    await browser.close();
  }
}

if (process.argv[1] === import.meta.filename) {
  const jsonPath = process.argv[2] ?? join(import.meta.dirname, '../docs/benchmarks/curves.json');
  const written = await drawCurves(jsonPath, join(jsonPath, '..'));
  process.stdout.write(`${written.join('\n')}\n`);
}
