import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxLine } from '../helpers/app.js';
import {
  BrowserHarness,
  browserTestsCanRun,
  expectClean,
  screenshot,
  untilTrue,
} from '../helpers/browser.js';
import { listeningApp, openPage } from '../helpers/dashboardApp.js';
import { openAlert } from '../helpers/dashboardFixtures.js';

const canRun = browserTestsCanRun();

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Five hours of user-profile traffic: a few hours in a 28-day window. */
const HOURS = 5;
/** Releases a minute apart, 80 minutes ago: their labels would print over each other. */
const RELEASES = ['v3.1.0', 'v3.1.1', 'v3.1.2', 'v3.1.3', 'v3.1.4', 'v3.1.5'];
const KOLKATA_MINUTES = 330;

interface AxisView {
  min: number;
  max: number;
  ticks: number[];
  title: string;
}

/** A chart's time axis as drawn: its bounds, tick values and title. */
const axisOf = (page: Page, id: string) =>
  page.evaluate(`(() => {
    const x = Chart.getChart(document.getElementById('${id}')).scales.x;
    return { min: x.min, max: x.max, ticks: x.ticks.map((t) => t.value), title: x.options.title.text };
  })()`) as Promise<AxisView>;

/** Drags across a chart's plot area from one share of its width to another (0–1). */
async function dragAcross(page: Page, id: string, fromShare: number, toShare: number) {
  // The mouse reaches only what is in the viewport.
  await page.locator(`#${id}`).scrollIntoViewIfNeeded();
  const area = (await page.evaluate(`(() => {
    const chart = Chart.getChart(document.getElementById('${id}'));
    const box = chart.canvas.getBoundingClientRect();
    const { left, right, top, bottom } = chart.chartArea;
    return { left: box.left + left, width: right - left, y: box.top + (top + bottom) / 2 };
  })()`)) as { left: number; width: number; y: number };
  await page.mouse.move(area.left + area.width * fromShare, area.y);
  await page.mouse.down();
  await page.mouse.move(area.left + area.width * toShare, area.y, { steps: 6 });
  await page.mouse.up();
}

const urlRange = (page: Page) => {
  const params = new URL(page.url()).searchParams;
  return { from: Date.parse(params.get('from') ?? ''), to: Date.parse(params.get('to') ?? '') };
};

describe.skipIf(!canRun)('time navigation in chromium', () => {
  let ctx: Awaited<ReturnType<typeof listeningApp>>;
  let browser: BrowserHarness;
  let base = '';
  let nowMs = 0;

  beforeAll(async () => {
    ctx = await listeningApp({ prefix: 'sloguard-timenav-defs-' });
    base = ctx.base;
    nowMs = Date.now();
    const lines: string[] = [];
    for (let minute = HOURS * 60; minute >= 1; minute--) {
      const t = nowMs - minute * MINUTE;
      for (let i = 0; i < 12; i++) {
        const failed = minute <= 70 && minute > 50 && i % 4 === 0;
        lines.push(nginxLine(t + i * 5_000, 'GET', `/profile/${i}`, failed ? 503 : 200, 0.05));
      }
    }
    expect(await ctx.post('/api/v1/ingest/lb?format=nginx&service=user-profile', lines.join('\n'))).toBe(202);
    for (const [index, version] of RELEASES.entries()) {
      expect(
        await ctx.post('/api/v1/deployments', {
          service: 'user-profile',
          environment: 'production',
          version,
          time: new Date(nowMs - (80 - index) * MINUTE).toISOString(),
        }),
      ).toBe(201);
    }
    ctx.sloguard.pipeline.flush();
    ctx.sloguard.evaluator.evaluateAll();
    openAlert(ctx.sloguard.db, 'profile-availability', 'user-profile', 'critical', nowMs - 66 * MINUTE);
    browser = await BrowserHarness.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  it('fits the default range to a few hours of data instead of the 28-day window', async () => {
    const { page, context, log } = await openPage(browser, `${base}/slo/profile-availability`);
    expect(await page.locator('#range button[aria-pressed="true"]').getAttribute('data-range')).toBe('fit');
    const axis = await axisOf(page, 'chart-sli');
    // The data starts five hours ago: the axis starts a little before that, nowhere near 28 days back.
    expect(axis.min).toBeLessThan(nowMs - HOURS * HOUR);
    expect(axis.min).toBeGreaterThan(nowMs - 2 * HOURS * HOUR);
    expect(axis.max).toBeGreaterThanOrEqual(nowMs);
    await screenshot(page, 'timenav-fit');
    expectClean(log);
    await context.close();
  });

  it('zooms by dragging, keeps the range in the URL, restores it on reload and goes back', async () => {
    const { page, context, log } = await openPage(browser, `${base}/slo/profile-availability?range=6h`);
    const before = await axisOf(page, 'chart-traffic');
    await dragAcross(page, 'chart-traffic', 0.5, 0.75);
    await untilTrue(page, `new URL(location.href).searchParams.has('from')`);
    const zoomed = urlRange(page);
    const span = before.max - before.min;
    expect(zoomed.from).toBeGreaterThan(before.min + span * 0.45);
    expect(zoomed.to).toBeLessThan(before.min + span * 0.8);
    expect(new URL(page.url()).searchParams.has('range')).toBe(false);
    const drawnAfterZoom = async () => {
      await untilTrue(
        page,
        `Chart.getChart(document.getElementById('chart-sli')).scales.x.min === ${zoomed.from}`,
      );
      // Every time chart of the page shows the zoomed range.
      for (const id of ['chart-sli', 'chart-budget', 'chart-burn', 'chart-traffic']) {
        const axis = await axisOf(page, id);
        expect([axis.min, axis.max], id).toEqual([zoomed.from, zoomed.to]);
      }
    };
    await drawnAfterZoom();
    expect(await page.locator('#range-reset').isVisible()).toBe(true);
    await page.waitForLoadState('networkidle');

    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]');
    await drawnAfterZoom();
    expect(urlRange(page)).toEqual(zoomed);

    await page.goBack();
    await untilTrue(page, `new URL(location.href).searchParams.get('range') === '6h'`);
    await untilTrue(
      page,
      `Chart.getChart(document.getElementById('chart-sli')).scales.x.max - Chart.getChart(document.getElementById('chart-sli')).scales.x.min > ${5 * HOUR}`,
    );
    expect(await page.locator('#range-reset').isVisible()).toBe(false);
    expectClean(log);
    await context.close();
  });

  it('puts ticks on round local times with the zone on the axis, in a half-hour zone', async () => {
    const { page, context, log } = await browser.page({ timezoneId: 'Asia/Kolkata' });
    for (const range of ['1h', '6h', '1d', '7d']) {
      await page.goto(`${base}/slo/profile-availability?range=${range}`);
      await page.waitForSelector('body[data-loaded="true"]');
      for (const id of ['chart-sli', 'chart-traffic']) {
        const axis = await axisOf(page, id);
        // Chromium's ICU still names the zone by its older canonical name.
        expect(axis.title).toMatch(/^UTC\+05:30 Asia\/(Kolkata|Calcutta)$/);
        expect(axis.ticks.length, `${range} ${id}`).toBeGreaterThanOrEqual(3);
        const gaps = axis.ticks.slice(1).map((t, i) => t - axis.ticks[i]!);
        const step = Math.min(...gaps);
        expect([5, 10, 15, 30, 60, 180, 360, 720, 1440].map((m) => m * MINUTE)).toContain(step);
        for (const tick of axis.ticks) {
          const localMinutes = (tick + KOLKATA_MINUTES * MINUTE) / MINUTE;
          expect(localMinutes % (step / MINUTE), `${range} ${id} ${new Date(tick).toISOString()}`).toBe(0);
        }
      }
    }
    // The from/to inputs read the viewer's zone: 10:00 in Kolkata is 04:30 UTC.
    await page.fill('#range-from', '2026-12-01T10:00');
    await page.fill('#range-to', '2026-12-01T16:30');
    await page.click('#range-apply');
    await untilTrue(page, `new URL(location.href).searchParams.has('from')`);
    expect(new URL(page.url()).searchParams.get('from')).toBe('2026-12-01T04:30:00Z');
    expect(new URL(page.url()).searchParams.get('to')).toBe('2026-12-01T11:00:00Z');
    await screenshot(page, 'timenav-kolkata');
    expectClean(log);
    await context.close();
  });

  it('places deploy and alert labels so that none overlap', async () => {
    const { page, context, log } = await openPage(browser, `${base}/slo/profile-availability?range=6h`, {
      width: 900,
    });
    type Box = { label: string; left: number; top: number; right: number; bottom: number };
    for (const id of ['chart-sli', 'chart-budget', 'chart-burn', 'chart-traffic']) {
      const boxes = (await page.evaluate(
        `Chart.getChart(document.getElementById('${id}')).$markerLabels`,
      )) as Box[];
      // At least the first releases and the page have room; the rest show on hover.
      expect(boxes.length, id).toBeGreaterThanOrEqual(3);
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) {
          const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          expect(overlap, `${id}: ${a.label} and ${b.label}`).toBe(false);
        }
      }
    }
    // A label without room shows while the pointer is on its line.
    const hidden = (await page.evaluate(`(() => {
      const chart = Chart.getChart(document.getElementById('chart-sli'));
      const shown = new Set(chart.$markerLabels.map((b) => b.label));
      const line = chart.options.plugins.timeMarkers.lines.find((l) => !shown.has(l.label));
      if (!line) return null;
      const box = chart.canvas.getBoundingClientRect();
      return { at: line.at, x: box.left + chart.scales.x.getPixelForValue(line.at), y: box.top + chart.chartArea.bottom - 5 };
    })()`)) as { at: number; x: number; y: number } | null;
    if (hidden) {
      await page.mouse.move(hidden.x, hidden.y);
      await untilTrue(page, `Chart.getChart(document.getElementById('chart-sli')).$hoverAt === ${hidden.at}`);
    }
    await screenshot(page, 'timenav-markers');
    expectClean(log);
    await context.close();
  });

  it('draws the last step, whose minute is not over, as partial at its rate over the time covered', async () => {
    const { page, context, log } = await browser.page();
    const answers: Array<{ points: Array<{ requests_per_second: number; coverage: number }> }> = [];
    page.on('response', async (response) => {
      if (new URL(response.url()).pathname.endsWith('/timeseries')) answers.push(await response.json());
    });
    await page.goto(`${base}/slo/profile-availability?range=1h`);
    await page.waitForSelector('body[data-loaded="true"]');
    const last = answers.at(-1)!.points.at(-1)!;
    const drawn = (await page.evaluate(`(() => {
      const chart = Chart.getChart(document.getElementById('chart-traffic'));
      const data = chart.data.datasets[0].data;
      const dash = (index) => chart.data.datasets[0].segment.borderDash({ p1DataIndex: index }) ?? null;
      return { y: data.at(-1).y, lastDash: dash(data.length - 1), firstDash: dash(1) };
    })()`)) as { y: number | null; lastDash: number[] | null; firstDash: number[] | null };
    expect(drawn.firstDash).toBeNull();
    if (last.coverage < 1 && last.coverage > 0) {
      expect(drawn.lastDash).toEqual([3, 3]);
      expect(drawn.y).toBeCloseTo(last.requests_per_second / last.coverage, 6);
    } else expect(drawn.lastDash).toBeNull();
    expectClean(log);
    await context.close();
  });

  it('zooms the incidents timeline by dragging across it, and a click on it zooms nothing', async () => {
    const { page, context, log } = await openPage(browser, `${base}/incidents?range=7d`);
    const track = await page.locator('#timeline .lane[data-service="user-profile"] .track').boundingBox();
    const y = track!.y + track!.height / 2;
    await page.mouse.click(track!.x + track!.width * 0.3, y);
    expect(new URL(page.url()).searchParams.get('range')).toBe('7d');
    // From 40% of the way to past the right edge (the releases are there): the band stops at the edge.
    await page.mouse.move(track!.x + track!.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(track!.x + track!.width + 30, y, { steps: 6 });
    expect(await page.locator('#timeline .zoom-band').count()).toBe(1);
    await page.mouse.up();
    await untilTrue(page, `new URL(location.href).searchParams.has('from')`);
    const zoomed = urlRange(page);
    // The last 60% of seven days, give or take the pixels.
    expect((zoomed.to - zoomed.from) / 86_400_000).toBeCloseTo(0.6 * 7, 1);
    await untilTrue(
      page,
      `document.querySelector('#timeline .tick') !== null && Number(document.querySelector('#timeline .tick').dataset.at) >= ${zoomed.from}`,
    );
    await page.waitForLoadState('networkidle');
    expect(await page.locator('#timeline .zoom-band').count()).toBe(0);
    expectClean(log);
    await context.close();
  });

  it('zooms the deployments-per-day bars to the whole days dragged over', async () => {
    const { page, context, log } = await openPage(browser, `${base}/delivery?range=7d`);
    const starts = (await page.evaluate(`(() => {
      const chart = Chart.getChart(document.getElementById('chart-deploys'));
      return chart.data.labels.length;
    })()`)) as number;
    expect(starts).toBeGreaterThanOrEqual(7);
    // From the middle of the third bar to the middle of the fifth: the third, fourth and fifth days.
    const share = (bar: number) => (bar + 0.5) / starts;
    await dragAcross(page, 'chart-deploys', share(2), share(4));
    await untilTrue(page, `new URL(location.href).searchParams.has('from')`);
    const zoomed = urlRange(page);
    const hours = (zoomed.to - zoomed.from) / HOUR;
    // Three local days (a DST change may make one 23 or 25 hours).
    expect(hours).toBeGreaterThanOrEqual(71);
    expect(hours).toBeLessThanOrEqual(73);
    await untilTrue(
      page,
      `Chart.getChart(document.getElementById('chart-deploys')).data.labels.length === 3`,
    );
    await page.waitForLoadState('networkidle');
    expectClean(log);
    await context.close();
  });

  it('zooms the incidents and delivery charts into a range kept in the URL that reaches the API', async () => {
    for (const [path, chart, api] of [
      ['/incidents', 'chart-mttr', '/api/v1/incidents'],
      ['/delivery', 'chart-cfr', '/api/v1/delivery'],
    ] as const) {
      const { page, context, log } = await openPage(browser, `${base}${path}?range=7d`);
      await dragAcross(page, chart, 0.2, 0.6);
      await untilTrue(page, `new URL(location.href).searchParams.has('from')`);
      const zoomed = urlRange(page);
      // The zoomed range drawn, and nothing left in flight that the reload would cancel.
      await untilTrue(
        page,
        `Chart.getChart(document.getElementById('${chart}')).scales.x.min === ${zoomed.from}`,
      );
      await page.waitForLoadState('networkidle');
      expect(zoomed.to - zoomed.from).toBeGreaterThan(2 * 86_400_000);
      expect(zoomed.to - zoomed.from).toBeLessThan(3.5 * 86_400_000);
      const asked: URL[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname === api) asked.push(url);
      });
      await page.reload();
      await page.waitForSelector('body[data-loaded="true"]');
      expect(asked.map((url) => Date.parse(url.searchParams.get('from') ?? ''))).toContain(zoomed.from);
      const axis = await axisOf(page, chart);
      expect([axis.min, axis.max]).toEqual([zoomed.from, zoomed.to]);
      expectClean(log);
      await context.close();
    }
  });
});
