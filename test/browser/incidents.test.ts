import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app.js';
import {
  BrowserHarness,
  chromiumInstalled,
  drawnCanvases,
  expectClean,
  screenshot,
} from '../helpers/browser.js';
import {
  deliveryAnswer,
  incidentsAnswer,
  reliabilityAnswer,
  scriptedDeployments,
} from '../helpers/incidentFixtures.js';

const canRun = chromiumInstalled() || Boolean(process.env.CI);
if (!canRun)
  console.warn('\n*** SKIPPING browser tests: /usr/bin/chromium is missing (apt-get install chromium) ***\n');

/**
 * The #19 routes answered in the contract's shapes (the core lands them on its own branch); everything
 * else, the pages, assets, SLO list and deployments, comes from the real app. Returns the URLs asked.
 */
async function contractRoutes(page: Page, nowMs: number): Promise<URL[]> {
  const asked: URL[] = [];
  await page.route(
    (url) => /^\/api\/v1\/(incidents|delivery|services\/[^/]+\/reliability)$/.test(url.pathname),
    (route) => {
      const url = new URL(route.request().url());
      asked.push(url);
      const from = url.searchParams.get('from') ?? '';
      const to = url.searchParams.get('to') ?? '';
      const service = url.searchParams.get('service') ?? undefined;
      const reliability = /^\/api\/v1\/services\/([^/]+)\/reliability$/.exec(url.pathname);
      let body: unknown;
      if (reliability) body = reliabilityAnswer(decodeURIComponent(reliability[1]!), from, to);
      else if (url.pathname === '/api/v1/delivery') body = deliveryAnswer(from, to, service);
      else {
        const all = incidentsAnswer(nowMs);
        const incidents = all.incidents.filter((i) => !service || i.service === service);
        body = { incidents, total: incidents.length };
      }
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    },
  );
  return asked;
}

describe.skipIf(!canRun)('incidents and delivery pages in chromium', () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  let browser: BrowserHarness;
  let base = '';
  const nowMs = Date.now();

  beforeAll(async () => {
    ctx = await testApp();
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
    for (const d of scriptedDeployments(nowMs)) {
      const response = await fetch(`${base}/api/v1/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          service: d.service,
          environment: d.environment,
          version: d.version,
          time: new Date(d.deployedAtMs).toISOString(),
        }),
      });
      expect(response.status).toBe(201);
    }
    browser = await BrowserHarness.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  it('draws the timeline, reliability figures, MTTR trend and incident list', async () => {
    const { page, context, log } = await browser.page();
    await contractRoutes(page, nowMs);
    await page.goto(`${base}/incidents`);
    await page.waitForSelector('body[data-loaded="true"]');
    const lanes = await page
      .locator('#timeline .lane[data-service]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-service')));
    expect(lanes).toEqual(['checkout', 'user-profile']);
    const checkout = page.locator('#timeline .lane[data-service="checkout"]');
    expect(await checkout.locator('.bar.sev-page.postmortem').count()).toBe(1);
    expect(await checkout.locator('.deploy').count()).toBe(3);
    const profile = page.locator('#timeline .lane[data-service="user-profile"]');
    expect(await profile.locator('.bar.sev-ticket.open').count()).toBe(1);
    expect(await profile.locator('.deploy').count()).toBe(0);
    // The open incident runs to the end of the range: its bar reaches the right edge.
    const reach = await page.evaluate(`(() => {
      const bar = document.querySelector('#timeline .lane[data-service="user-profile"] .bar');
      return Number.parseFloat(bar.style.left) + Number.parseFloat(bar.style.width);
    })()`);
    expect(reach as number).toBeCloseTo(100, 0);

    const reliability = page.locator('#reliability tbody tr[data-service="checkout"] td');
    expect(await reliability.allTextContents()).toEqual([
      'checkout',
      '1',
      '45m',
      '50m',
      '2d',
      '—',
      '5m',
      '31%',
      '1',
    ]);

    const rows = page.locator('#incidents tbody tr');
    expect(await rows.count()).toBe(2);
    const row = page.locator('#incident-inc-checkout');
    expect(await row.locator('td').nth(2).textContent()).toBe(
      'checkout-availability, checkout-submit-latency',
    );
    expect(await row.locator('td').nth(4).textContent()).toBe('50m');
    expect(await row.locator('td').nth(7).textContent()).toBe('required');
    expect(await row.locator('td').nth(8).textContent()).toBe('v1.1.0');
    expect(await row.locator('a[href="https://runbooks.example.com/checkout"]').count()).toBe(1);
    expect(await row.locator('td').nth(10).textContent()).toBe('payments-team');
    expect(await page.locator('#incident-inc-profile td').nth(4).textContent()).toBe('open');

    const canvases = await drawnCanvases(page);
    expect(canvases['chart-mttr']).toBeGreaterThan(500);
    await screenshot(page, 'incidents-light');
    expectClean(log);
    await context.close();
  });

  it('keeps the range and the service in the URL and asks the API for them', async () => {
    const { page, context, log } = await browser.page();
    const asked = await contractRoutes(page, nowMs);
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
    await page.waitForFunction(`new URL(location.href).searchParams.get('range') === '1d'`);
    await page.waitForSelector('#incidents tbody tr');
    await expect.poll(() => asked.some((url) => url.pathname === '/api/v1/incidents')).toBe(true);
    expect(new URL(page.url()).searchParams.get('service')).toBe('checkout');
    await page.selectOption('#service', '');
    await page.waitForFunction(`!new URL(location.href).searchParams.has('service')`);
    await page.waitForSelector('#timeline .lane[data-service="user-profile"]');
    expectClean(log);
    await context.close();
  });

  it('is usable at a phone width: nothing wider than the screen but the scrolling tables', async () => {
    const { page, context, log } = await browser.page({ width: 390, height: 844 });
    await contractRoutes(page, nowMs);
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
    const asked = await contractRoutes(page, nowMs);
    await page.goto(`${base}/delivery?range=7d`);
    await page.waitForSelector('body[data-loaded="true"]');
    const cells = await page.locator('#delivery tbody tr[data-service="checkout"] td').allTextContents();
    expect(cells).toEqual(['checkout', 'production', '3', '0.11', '3h', '3h', '33.3%', '1', '45m']);
    expect(
      await page.locator('#delivery tbody tr[data-service="user-profile"] td').nth(6).textContent(),
    ).toBe('—');
    expect(await page.locator('#tiles .tile').first().textContent()).toContain('3');
    // One delivery request for the range and one per day of the 7-day trend.
    expect(asked.filter((url) => url.pathname === '/api/v1/delivery')).toHaveLength(8);
    const canvases = await drawnCanvases(page);
    expect(canvases['chart-deploys']).toBeGreaterThan(500);
    expect(canvases['chart-cfr']).toBeGreaterThan(500);
    // The real deployments list: three checkout deployments in the last seven days, on two days.
    const perDay = await page.evaluate(`(() => {
      const chart = Chart.getChart(document.querySelector('#chart-deploys'));
      return chart.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)]);
    })()`);
    expect(perDay).toEqual([['checkout', 3]]);

    await page.selectOption('#environment', 'production');
    await page.waitForFunction(`new URL(location.href).searchParams.get('environment') === 'production'`);
    await expect
      .poll(() => asked.some((url) => url.searchParams.get('environment') === 'production'))
      .toBe(true);
    await screenshot(page, 'delivery-dark');
    expectClean(log);
    await context.close();
  });
});
