import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserHarness, browserTestsCanRun, expectClean, screenshot } from '../helpers/browser.js';
import { openPage } from '../helpers/dashboardApp.js';
import { labelledApp } from '../helpers/labelFixtures.js';

const canRun = browserTestsCanRun();
const PHONE = { width: 390, height: 844 };

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  /** The right edge of what shows: the viewport's, or the scrolling table panel's when nearer. */
  edge: number;
}

/** An element's box in the viewport (page.evaluate takes a string: the test project has no DOM types). */
async function box(page: Page, selector: string): Promise<Box> {
  const found = await page.evaluate(`(() => {
    const element = document.querySelector(${JSON.stringify(selector)});
    if (!element) return null;
    const r = element.getBoundingClientRect();
    // Inside a table that scrolls in its panel, what lies past the panel's edge is hidden too.
    const wrap = element.closest('.table-wrap')?.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, edge: Math.min(wrap?.right ?? innerWidth, innerWidth) };
  })()`);
  expect(found, selector).not.toBeNull();
  return found as Box;
}

/** Visible without scrolling either way: the box lies inside the 390×844 viewport and its table's panel. */
async function expectInViewport(page: Page, selector: string): Promise<void> {
  const r = await box(page, selector);
  expect(r.left, selector).toBeGreaterThanOrEqual(0);
  expect(r.top, selector).toBeGreaterThanOrEqual(0);
  expect(r.right, selector).toBeLessThanOrEqual(r.edge);
  expect(r.edge, selector).toBeLessThanOrEqual(PHONE.width);
  expect(r.bottom, selector).toBeLessThanOrEqual(PHONE.height);
}

const scrollWidth = (page: Page) => page.evaluate('document.documentElement.scrollWidth') as Promise<number>;
const shownSlos = (page: Page) =>
  page.locator('#slos tbody tr[data-slo]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-slo')));

describe.skipIf(!canRun)(
  'labels, owners, overview truth, composites and the phone layout in chromium',
  () => {
    let ctx: Awaited<ReturnType<typeof labelledApp>>;
    let browser: BrowserHarness;
    let base = '';

    beforeAll(async () => {
      ctx = await labelledApp();
      await ctx.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
      // One gate decision, for games only: shop's freeze must come from the evaluation alone.
      const gate = await fetch(`${base}/api/v1/gate?service=games&environment=production&version=v9.1.0`);
      expect(gate.status).toBe(423);
      browser = await BrowserHarness.launch();
    });
    afterAll(async () => {
      await browser?.close();
      await ctx?.close();
    });

    const open = (path: string, options: { width?: number; height?: number } = {}) =>
      openPage(browser, `${base}${path}`, options);

    it('shows display names beside names, labels as chips, the paging count, frozen gates and overspent budgets in red', async () => {
      const { page, context, log } = await open('/');
      const games = page.locator('#slos tbody tr[data-slo="games-availability"]');
      expect(await games.locator('.slo-title a').textContent()).toBe('Games load without server errors');
      expect(await games.locator('.slo-id').textContent()).toBe('games-availability');
      expect(await games.locator('.slo-title a').getAttribute('title')).toBe(
        'Every game page answers without a 5xx. · owner team-games',
      );
      expect(await games.locator('.chip').allTextContents()).toEqual(['team: games', 'tier: 1']);
      // Without a display name the name is the title, shown once.
      const search = page.locator('#slos tbody tr[data-slo="search-availability"]');
      expect(await search.locator('.slo-title').textContent()).toBe('search-availability');
      expect(await search.locator('.chip').allTextContents()).toEqual(['team: search:core']);

      const summary = await page.locator('#summary .count').allTextContents();
      expect(summary).toContain('1paging');
      // Nobody asked shop's gate: its freeze comes from the evaluation.
      expect(
        await page.locator('#slos tbody tr[data-service="shop"] td.col-gate').first().textContent(),
      ).toBe('frozen');
      expect(await page.textContent('#summary')).toContain('2frozen services');
      expect(await page.locator('#slos tbody tr[data-service="news"] td.col-gate').textContent()).toBe(
        'open',
      );

      // cart-availability spent twice its budget: the whole bar and its number are red, not the grey of no data.
      const colours = (await page.evaluate(`(() => {
      const budget = document.querySelector('tr[data-slo="cart-availability"] .budget');
      return {
        text: budget.querySelector('.value').textContent,
        bar: getComputedStyle(budget.querySelector('.bar')).backgroundColor,
        value: getComputedStyle(budget.querySelector('.value')).color,
        bad: getComputedStyle(document.documentElement).getPropertyValue('--bad').trim(),
        healthyBar: getComputedStyle(document.querySelector('tr[data-slo="news-availability"] .budget .bar')).backgroundColor,
      };
    })()`)) as { text: string; bar: string; value: string; bad: string; healthyBar: string };
      expect(colours.text).toMatch(/^-\d+(\.\d)?%$/);
      expect(colours.bar).toBe('rgb(214, 53, 58)');
      expect(colours.value).toBe('rgb(214, 53, 58)');
      expect(colours.bad).toBe('#d6353a');
      expect(colours.healthyBar).not.toBe(colours.bar);
      await screenshot(page, 'labels-overview');
      expectClean(log);
      await context.close();
    });

    it('filters by a clicked label chip and groups by a label key, kept in the URL and restored on reload', async () => {
      const { page, context, log } = await open('/');
      const settled = () => page.waitForSelector('#slos:not([aria-busy])');

      await page.click('#slos tbody tr[data-slo="cart-availability"] .chip[data-label="team:payments"]');
      await settled();
      expect((await shownSlos(page)).sort()).toEqual(['cart-availability', 'shop-browse']);
      expect(new URL(page.url()).searchParams.getAll('label')).toEqual(['team:payments']);
      // A second label from the menu: both must match.
      await page.selectOption('#label', 'tier:1');
      await settled();
      expect(await shownSlos(page)).toEqual(['cart-availability']);
      expect(new URL(page.url()).searchParams.getAll('label')).toEqual(['team:payments', 'tier:1']);
      await page.reload();
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await shownSlos(page)).toEqual(['cart-availability']);
      expect(await page.locator('#label-filters .chip').allTextContents()).toEqual([
        'team: payments ×',
        'tier: 1 ×',
      ]);
      // Removing the filters shows everything again.
      await page.click('#label-filters .chip[data-label="tier:1"]');
      await settled();
      await page.click('#label-filters .chip[data-label="team:payments"]');
      await settled();
      expect(await shownSlos(page)).toHaveLength(6);
      expect(new URL(page.url()).searchParams.has('label')).toBe(false);

      await page.selectOption('#group', 'team');
      await settled();
      expect(new URL(page.url()).searchParams.get('group')).toBe('team');
      const sections = () =>
        page.locator('#slos tbody tr.group-row').evaluateAll((trs) => trs.map((tr) => tr.textContent));
      const grouped = [
        'team: games · 2 SLOs',
        'team: payments · 2 SLOs',
        'team: search:core · 1 SLO',
        'no team label · 1 SLO',
      ];
      expect(await sections()).toEqual(grouped);
      await page.reload();
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await sections()).toEqual(grouped);
      expect(await page.inputValue('#group')).toBe('team');
      // Rows follow their section: the first two after "team: games" are the games SLOs.
      const order = await page
        .locator('#slos tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => tr.getAttribute('data-slo') ?? `# ${tr.getAttribute('data-group')}`),
        );
      expect(order.slice(0, 3)).toEqual([
        '# games',
        expect.stringMatching(/^games-/),
        expect.stringMatching(/^games-/),
      ]);
      expect(order.at(-2)).toBe('# ');
      expect(order.at(-1)).toBe('news-availability');
      // An edited URL naming an object property groups everything under "no … label".
      await page.goto(`${base}/?group=constructor`);
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await sections()).toEqual(['no constructor label · 6 SLOs']);
      expectClean(log);
      await context.close();
    });

    it('heads the SLO page with the display name, the name, labels, description, runbook and owner', async () => {
      const { page, context, log } = await open('/slo/games-availability?range=1h');
      expect(await page.textContent('#title')).toBe('Games load without server errors');
      expect(await page.title()).toBe('Games load without server errors · sloguard');
      expect(await page.textContent('#slo-meta .slo-id')).toBe('games-availability');
      expect(await page.locator('#slo-meta .chip').allTextContents()).toEqual(['team: games', 'tier: 1']);
      expect(await page.textContent('#slo-meta')).toContain('Every game page answers without a 5xx.');
      expect(await page.locator('#subtitle a').getAttribute('href')).toBe(
        'https://runbooks.example.com/games',
      );
      expect(await page.textContent('#subtitle')).toContain('owner team-games');
      expect(await page.locator('#composite-panel').isVisible()).toBe(false);
      expectClean(log);
      await context.close();
    });

    it("lists a composite's components with their own state, budget, SLI, weight and a link to each", async () => {
      const { page, context, log } = await open('/slo/shop-browse?range=1h');
      expect(await page.locator('#composite-panel').isVisible()).toBe(true);
      const api = (await (await fetch(`${base}/api/v1/slos/cart-availability`)).json()) as {
        sli: number;
        budget: { remaining_ratio: number };
      };
      const rows = (await page.locator('#components tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({
          slo: tr.getAttribute('data-slo'),
          state: tr.querySelector('.col-state')?.textContent,
          budget: tr.querySelector('.col-budget .value')?.textContent,
          spent: tr.querySelector('.budget')?.classList.contains('spent'),
          title: tr.querySelector('.col-slo a')?.textContent,
          href: tr.querySelector('.col-slo a')?.getAttribute('href'),
          figures: [...tr.querySelectorAll('td.num')].map((td) => td.textContent),
        })),
      )) as Array<Record<string, unknown>>;
      const pct = (ratio: number, digits: number) =>
        `${(ratio * 100).toFixed(digits).replace(/\.?0+$/, '')}%`;
      expect(rows).toEqual([
        {
          slo: 'cart-availability',
          state: 'exhausted',
          budget: pct(api.budget.remaining_ratio, 1),
          spent: true,
          title: 'Cart answers',
          href: '/slo/cart-availability',
          figures: [pct(api.sli, 3), '99%', '25%'],
        },
        {
          slo: 'search-availability',
          state: 'ok',
          budget: '100%',
          spent: false,
          title: 'search-availability',
          href: '/slo/search-availability',
          figures: ['100%', '99%', '75%'],
        },
      ]);
      await screenshot(page, 'labels-composite');
      await page.click('#components a[href="/slo/cart-availability"]');
      await page.waitForURL(`${base}/slo/cart-availability`);
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await page.textContent('#title')).toBe('Cart answers');
      expectClean(log);
      await context.close();
    });

    it('at 390 px shows state and budget without scrolling sideways on the overview, SLO and gate pages', async () => {
      const { page, context, log } = await open('/', PHONE);
      await screenshot(page, 'labels-overview-phone');
      expect(await scrollWidth(page)).toBeLessThanOrEqual(PHONE.width);
      await expectInViewport(page, '#slos tbody tr td.col-state .badge');
      await expectInViewport(page, '#slos tbody tr td.col-budget .budget');

      await page.goto(`${base}/slo/games-availability?range=1h`);
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await scrollWidth(page)).toBeLessThanOrEqual(PHONE.width);
      await expectInViewport(page, '#subtitle .badge');
      await expectInViewport(page, '#tiles .tile:nth-child(3) .value');
      expect(await page.textContent('#tiles .tile:nth-child(3) .label')).toBe('Budget remaining');
      await screenshot(page, 'labels-slo-phone');

      await page.goto(`${base}/gate`);
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await scrollWidth(page)).toBeLessThanOrEqual(PHONE.width);
      await expectInViewport(page, '#services tbody tr[data-service="shop"] td.col-state .badge');
      await expectInViewport(page, '#services tbody tr[data-service="shop"] td.col-budget .budget');
      expect(await page.textContent('#services tbody tr[data-service="shop"] td.col-state')).toBe('frozen');
      // A decision row is a compact card: the decision inside the screen's width, the reason clamped.
      const decision = await box(page, '#decisions tbody tr[data-decision="deny"] td.col-decision .badge');
      expect(decision.left).toBeGreaterThanOrEqual(0);
      expect(decision.right).toBeLessThanOrEqual(decision.edge);
      const row = await box(page, '#decisions tbody tr[data-decision="deny"]');
      expect(row.bottom - row.top).toBeLessThan(100);
      await screenshot(page, 'labels-gate-phone');
      expectClean(log);
      await context.close();
    });

    it('names the SLO with the lowest budget, with its labels, per service on the gate page', async () => {
      const { page, context, log } = await open('/gate');
      const shop = page.locator('#services tbody tr[data-service="shop"]');
      expect(await shop.locator('.slo-title a').textContent()).toBe('Cart answers');
      expect(await shop.locator('.slo-id').textContent()).toBe('cart-availability');
      expect(await shop.locator('.chip').allTextContents()).toEqual(['team: payments', 'tier: 1']);
      expect(await shop.locator('.budget').getAttribute('class')).toBe('budget spent');
      expectClean(log);
      await context.close();
    });
  },
);
