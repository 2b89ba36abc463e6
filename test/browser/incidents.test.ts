import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserHarness,
  browserTestsCanRun,
  drawnCanvases,
  expectClean,
  screenshot,
  untilTrue,
} from '../helpers/browser.js';
import { listeningApp, openPage } from '../helpers/dashboardApp.js';
import { CHECKOUT_POLICY, scriptHistory } from '../helpers/incidentHistory.js';

const canRun = browserTestsCanRun();

const DAY = 86_400_000;

/** The API calls a page makes, as URLs, for the checks on what it asked. */
function apiCalls(page: Page): URL[] {
  const asked: URL[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/')) asked.push(url);
  });
  return asked;
}

describe.skipIf(!canRun)('incidents and delivery pages in chromium', () => {
  let ctx: Awaited<ReturnType<typeof listeningApp>>;
  let browser: BrowserHarness;
  let base = '';

  beforeAll(async () => {
    ctx = await listeningApp({
      prefix: 'sloguard-incidents-defs-',
      files: { 'checkout-policy.yaml': CHECKOUT_POLICY },
    });
    base = ctx.base;
    // checkout's v2.0.0 two days ago burns until its rollback; user-profile has a ticket open since a day.
    const nowMs = Date.now();
    await scriptHistory(ctx.app, ctx.sloguard.stores.incidents, nowMs - 2 * DAY, nowMs - DAY);
    browser = await BrowserHarness.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  it('draws the timeline, reliability figures, MTTR trend and incident list', async () => {
    const { page, context, log } = await openPage(browser, `${base}/incidents`);
    const lanes = await page
      .locator('#timeline .lane[data-service]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-service')));
    expect(lanes).toEqual(['checkout', 'user-profile']);
    const checkout = page.locator('#timeline .lane[data-service="checkout"]');
    expect(await checkout.locator('.bar.sev-page.postmortem').count()).toBe(1);
    expect(await checkout.locator('.deploy').count()).toBe(3);
    expect(await checkout.locator('.deploy.rollback').count()).toBe(1);
    const profile = page.locator('#timeline .lane[data-service="user-profile"]');
    expect(await profile.locator('.bar.sev-ticket.open').count()).toBe(1);
    expect(await profile.locator('.deploy').count()).toBe(0);
    // The open incident runs to the end of the range: its bar reaches the right edge.
    const reach = await page.evaluate(`(() => {
      const bar = document.querySelector('#timeline .lane[data-service="user-profile"] .bar');
      return Number.parseFloat(bar.style.left) + Number.parseFloat(bar.style.width);
    })()`);
    expect(reach as number).toBeCloseTo(100, 0);

    // The figures by hand (helpers/incidentHistory.ts) over 28 days: one checkout incident down an hour
    // (MTTF 28d less that hour, MTBF 28d), detected after 5 minutes; user-profile's open one down a day and
    // the seconds since the script ran, so its MTTF is a little under 27d.
    const reliability = (service: string) =>
      page.locator(`#reliability tbody tr[data-service="${service}"] td`).allTextContents();
    expect(await reliability('checkout')).toEqual([
      'checkout',
      '1',
      '55m',
      '1h',
      '27d 23h',
      '28d',
      '5m',
      '31%',
      '1',
    ]);
    expect(await reliability('user-profile')).toEqual([
      'user-profile',
      '1',
      '—',
      '—',
      '26d 23h',
      '28d',
      '20m',
      '4%',
      '0',
    ]);

    const rows = page.locator('#incidents tbody tr');
    expect(await rows.count()).toBe(2);
    const row = page.locator('#incident-ep-a');
    // Each SLO as every page names it: display name (else the name), the name beside it, labels as chips.
    const sloCell = row.locator('td').nth(2);
    expect(
      await sloCell.locator('.slo-title').evaluateAll((els) => els.map((el) => el.getAttribute('data-slo'))),
    ).toEqual(['checkout-availability', 'checkout-submit-latency']);
    expect(await sloCell.locator('.chip').allTextContents()).toEqual([
      'team: payments',
      'tier: 1',
      'team: payments',
    ]);
    const profileSlo = page.locator('#incident-ep-c td').nth(2);
    expect(await profileSlo.locator('a').textContent()).toBe('Profile pages load without server errors');
    expect(await profileSlo.locator('.slo-id').textContent()).toBe('profile-availability');
    expect(await row.locator('td').nth(3).textContent()).toBe('page');
    expect(await row.locator('td').nth(4).textContent()).toBe('1h');
    expect(await row.locator('td').nth(5).textContent()).toBe('21.5×');
    expect(await row.locator('td').nth(6).textContent()).toBe('31%');
    expect(await row.locator('td').nth(7).textContent()).toBe('required');
    expect(await row.locator('td').nth(8).textContent()).toBe('v2.0.0');
    expect(await row.locator('td').nth(9).textContent()).toBe('v1.9.0 (rollback)');
    expect(await row.locator('a[href="https://runbooks.example.com/checkout"]').count()).toBe(1);
    expect(await row.locator('td').nth(11).textContent()).toBe('payments-team');
    expect(await page.locator('#incident-ep-c td').nth(4).textContent()).toBe('open');

    const canvases = await drawnCanvases(page);
    expect(canvases['chart-mttr']).toBeGreaterThan(500);
    await screenshot(page, 'incidents-light');
    expectClean(log);
    await context.close();
  });

  it('keeps the range and the service in the URL and asks the API for them', async () => {
    const { page, context, log } = await browser.page();
    const asked = apiCalls(page);
    await page.goto(`${base}/incidents?range=7d&service=checkout`);
    await page.waitForSelector('body[data-loaded="true"]');
    expect(await page.locator('#range button[aria-pressed="true"]').textContent()).toBe('7d');
    expect(await page.locator('#service').inputValue()).toBe('checkout');
    const first = asked.find((url) => url.pathname === '/api/v1/incidents')!;
    expect(first.searchParams.get('service')).toBe('checkout');
    const spanMs = Date.parse(first.searchParams.get('to')!) - Date.parse(first.searchParams.get('from')!);
    expect(spanMs).toBe(7 * 86_400_000);
    expect(await page.locator('#timeline .lane[data-service]').count()).toBe(1);

    asked.length = 0;
    await page.click('#range button[data-range="1d"]');
    await untilTrue(page, `new URL(location.href).searchParams.get('range') === '1d'`);
    await page.waitForSelector('#incidents tbody tr');
    await expect.poll(() => asked.some((url) => url.pathname === '/api/v1/incidents')).toBe(true);
    expect(new URL(page.url()).searchParams.get('service')).toBe('checkout');
    await page.selectOption('#service', '');
    await untilTrue(page, `!new URL(location.href).searchParams.has('service')`);
    await page.waitForSelector('#timeline .lane[data-service="user-profile"]');
    expectClean(log);
    await context.close();
  });

  it('is usable at a phone width: nothing wider than the screen but the scrolling tables', async () => {
    const { page, context, log } = await browser.page({ width: 390, height: 844 });
    for (const path of ['/incidents', '/delivery']) {
      await page.goto(`${base}${path}`);
      await page.waitForSelector('body[data-loaded="true"]');
      const overflow = await page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow as number, path).toBeLessThanOrEqual(0);
      await screenshot(page, `${path.slice(1)}-phone`);
    }
    expectClean(log);
    await context.close();
  });

  it('shows the four keys per service and environment, deployments per day and the failure-rate trend', async () => {
    const { page, context, log } = await browser.page({ colorScheme: 'dark' });
    const asked = apiCalls(page);
    await page.goto(`${base}/delivery?range=7d`);
    await page.waitForSelector('body[data-loaded="true"]');
    const cells = await page.locator('#delivery tbody tr[data-service="checkout"] td').allTextContents();
    // Three deploys in seven days, each two hours after its commit; v2.0.0 failed; restored 55m after detection.
    expect(cells).toEqual(['checkout', 'production', '3', '0.43', '2h', '2h', '33.3%', '1', '55m']);
    expect(await page.locator('#delivery tbody tr').count()).toBe(1);
    expect(await page.locator('#tiles .tile').first().textContent()).toContain('3');
    // One delivery request for the range and one per day of the 7-day trend.
    expect(asked.filter((url) => url.pathname === '/api/v1/delivery')).toHaveLength(8);
    const canvases = await drawnCanvases(page);
    expect(canvases['chart-deploys']).toBeGreaterThan(500);
    expect(canvases['chart-cfr']).toBeGreaterThan(500);
    // The deployments list: three checkout deployments in the last seven days.
    const perDay = await page.evaluate(`(() => {
      const chart = Chart.getChart(document.querySelector('#chart-deploys'));
      return chart.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)]);
    })()`);
    expect(perDay).toEqual([['checkout', 3]]);
    // The failure-rate axis reads in whole percents: 10% is not cut to "1%".
    const ticks = await page.evaluate(
      `Chart.getChart(document.querySelector('#chart-cfr')).scales.y.ticks.map((tick) => tick.label)`,
    );
    expect(ticks).toContain('10%');
    expect(ticks).toContain('100%');

    await page.selectOption('#environment', 'production');
    await untilTrue(page, `new URL(location.href).searchParams.get('environment') === 'production'`);
    await expect
      .poll(() => asked.some((url) => url.searchParams.get('environment') === 'production'))
      .toBe(true);
    await screenshot(page, 'delivery-dark');
    expectClean(log);
    await context.close();
  });

  // Last: it adds to the history the tests above count.
  it('keeps the history of a service whose SLOs were removed without breaking the page', async () => {
    const startMs = Date.now() - 3 * DAY;
    ctx.sloguard.stores.incidents.save({
      id: 'ep-retired',
      slo: 'legacy-availability',
      service: 'legacy-search',
      severity: 'ticket',
      burnStartedAtMs: startMs,
      detectedAtMs: startMs + 60_000,
      escalations: [{ severity: 'ticket', atMs: startMs + 60_000 }],
      resolvedAtMs: startMs + 600_000,
      peakBurnRate: 2,
      budgetConsumed: 0.01,
    });
    const { page, context, log } = await openPage(browser, `${base}/incidents`);
    expect(await page.locator('#timeline .lane[data-service="legacy-search"] .bar').count()).toBe(1);
    expect(await page.locator('#incident-ep-retired').count()).toBe(1);
    expect(await page.locator('#reliability tbody tr[data-service]').evaluateAll((rows) => rows.length)).toBe(
      2,
    );
    expect(await page.locator('#error').textContent()).toBe('');
    expectClean(log);
    await context.close();
  });
});
