import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserHarness,
  browserTestsCanRun,
  expectClean,
  screenshot,
  untilTrue,
} from '../helpers/browser.js';
import { listeningApp, openPage } from '../helpers/dashboardApp.js';
import { checkoutLines, storeSpans } from '../helpers/dashboardFixtures.js';

const canRun = browserTestsCanRun();
const MINUTE = 60_000;

describe.skipIf(!canRun)('budget breakdown in chromium', () => {
  let ctx: Awaited<ReturnType<typeof listeningApp>>;
  let browser: BrowserHarness;
  let base = '';

  beforeAll(async () => {
    ctx = await listeningApp({ prefix: 'sloguard-breakdown-browser-', playStore: true });
    base = ctx.base;
    const nowMs = Date.now();
    expect(
      await ctx.post('/api/v1/ingest/lb?format=nginx&service=checkout', checkoutLines(nowMs).join('\n')),
    ).toBe(202);
    expect(
      await ctx.post(
        '/api/v2/spans',
        storeSpans(nowMs, 30, (route, minutesAgo) => route === '/search' && minutesAgo === 3),
      ),
    ).toBe(202);
    ctx.sloguard.pipeline.flush();
    ctx.sloguard.evaluator.evaluateAll();
    browser = await BrowserHarness.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  it('opens "What burns the budget" into the URL, ranks the bad series with their shares, and reloads open', async () => {
    const { page, context, log } = await openPage(browser, `${base}/slo/checkout-availability?range=1h`);
    expect(await page.locator('#breakdown').getAttribute('open')).toBeNull();
    await page.click('#breakdown > summary');
    await page.waitForSelector('#breakdown[data-loaded="true"] tbody tr');
    expect(new URL(page.url()).searchParams.get('breakdown')).toBe('bad');

    const rows = async () =>
      page
        .locator('#breakdown tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 8).map((td) => td.textContent?.trim())),
        );
    // 50 of 2,000 requests failed where 99.9% allows 2: the cart's 30 spent 15 times the range's budget.
    expect(await rows()).toEqual([
      ['/api/cart', 'GET', 'nginx', '30', '1,000', '97%', '60%', '1500%'],
      ['/api/orders', 'POST', 'nginx', '20', '500', '96%', '40%', '1000%'],
      ['/api/orders/:id', 'GET', 'nginx', '0', '500', '100%', '0%', '0%'],
    ]);
    expect(await page.locator('#breakdown .breakdown-summary').textContent()).toContain(
      "50 bad of 2,000 events, 2500% of the range's budget spent",
    );
    // Each row draws its own SLI per step; the cart's bad minute is marked below the objective.
    expect(
      await page.locator('#breakdown tbody tr').first().locator('svg.sparkline circle.miss').count(),
    ).toBe(1);

    await page.selectOption('#breakdown-sort', 'sli');
    // Strings, not functions: the test project is typed without the DOM library.
    await untilTrue(page, "new URL(location.href).searchParams.get('breakdown') === 'sli'");
    await untilTrue(page, "document.querySelector('#breakdown tbody tr td')?.textContent === '/api/orders'");
    await page.reload();
    await page.waitForSelector('#breakdown[data-loaded="true"] tbody tr');
    expect(await page.locator('#breakdown').getAttribute('open')).not.toBeNull();
    expect(await page.locator('#breakdown-sort').inputValue()).toBe('sli');
    expect((await rows()).map((row) => row[0])).toEqual(['/api/orders', '/api/cart', '/api/orders/:id']);
    await screenshot(page, 'breakdown-checkout');
    expectClean(log);
    await context.close();
  });

  it('links a trace SLO row to the Zipkin search of its service, span, range and status tag', async () => {
    const { page, context, log } = await browser.page();
    await page.goto(`${base}/slo/search-availability?range=15m&breakdown=bad`);
    await page.waitForSelector('#breakdown[data-loaded="true"] tbody tr');
    const href = await page.locator('#breakdown tbody tr a.link-out.traces').getAttribute('href');
    const link = new URL(href!, base);
    expect(link.pathname).toBe('/zipkin/');
    const query = Object.fromEntries(link.searchParams);
    expect(query).toMatchObject({
      serviceName: 'play-store',
      spanName: 'get /search',
      annotationQuery: 'http.status_code and error',
      lookback: 'range',
      limit: '100',
    });
    // The range of the charts: the last 15 minutes, which hold the minute of 5xx.
    const spanMs = Number(query.endTs) - Number(query.startTs);
    expect(spanMs).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(spanMs).toBeLessThan(16 * MINUTE);
    expect(Math.abs(Number(query.endTs) - Date.now())).toBeLessThan(5 * MINUTE);
    expect(await page.locator('#breakdown tbody tr td').nth(3).textContent()).toBe('1');
    expectClean(log);
    await context.close();
  });
});
