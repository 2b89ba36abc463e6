import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxLine } from '../helpers/app.js';
import {
  BrowserHarness,
  browserTestsCanRun,
  drawnCanvases,
  expectClean,
  screenshot,
} from '../helpers/browser.js';
import { listeningApp, openPage } from '../helpers/dashboardApp.js';
import { openAlert, storeSpans } from '../helpers/dashboardFixtures.js';

const canRun = browserTestsCanRun();

const MINUTE = 60_000;
const HOURS = 6;

/**
 * Six hours of user-profile and checkout traffic ending now: healthy, then a release at -50m after which
 * profile pages fail one in six for twenty minutes (a fast burn), then healthy again.
 */
function history(nowMs: number) {
  const profile: string[] = [];
  const checkout: string[] = [];
  const start = nowMs - HOURS * 60 * MINUTE;
  for (let minute = 0; minute < HOURS * 60; minute++) {
    const t = start + minute * MINUTE;
    const incident = t >= nowMs - 50 * MINUTE && t < nowMs - 30 * MINUTE;
    for (let i = 0; i < 30; i++) {
      const at = t + i * 2_000;
      const failed = incident && i % 6 === 0;
      const slow = i % 10 === 0 ? 0.9 : 0.04 + (i % 7) * 0.02;
      profile.push(
        nginxLine(at, 'GET', `/profile/${1000 + i}`, failed ? 503 : i % 13 === 0 ? 404 : 200, slow),
      );
      if (i % 3 === 0) {
        checkout.push(
          nginxLine(
            at,
            i % 2 ? 'GET' : 'POST',
            i % 2 ? '/api/cart' : '/api/orders',
            200,
            0.1 + (i % 5) * 0.05,
          ),
        );
      }
    }
  }
  return { profile, checkout };
}

describe.skipIf(!canRun)('dashboard in chromium', () => {
  let ctx: Awaited<ReturnType<typeof listeningApp>>;
  let browser: BrowserHarness;
  let base = '';
  let correctionWindow = { from: 0, to: 0 };

  beforeAll(async () => {
    ctx = await listeningApp({ prefix: 'sloguard-browser-defs-', playStore: true });
    base = ctx.base;
    const nowMs = Date.now();
    const { profile, checkout } = history(nowMs);
    for (const [service, lines] of [
      ['user-profile', profile],
      ['checkout', checkout],
    ] as const) {
      expect(await ctx.post(`/api/v1/ingest/lb?format=nginx&service=${service}`, lines.join('\n'))).toBe(202);
    }
    expect(
      await ctx.post(
        '/api/v2/spans',
        storeSpans(nowMs, 120, (route, minutesAgo) => route === '/search' && minutesAgo === 20),
      ),
    ).toBe(202);
    expect(
      await ctx.post('/api/v1/deployments', {
        service: 'user-profile',
        environment: 'production',
        version: 'v2.4.0',
        time: new Date(nowMs - 51 * MINUTE).toISOString(),
      }),
    ).toBe(201);
    ctx.sloguard.pipeline.flush();
    ctx.sloguard.evaluator.evaluateAll();
    // The page the alerting sent (this in-process app runs no alerting): drawn as a line on the detail charts.
    openAlert(ctx.sloguard.db, 'profile-availability', 'user-profile', 'critical', nowMs - 45 * MINUTE);
    const gate = await fetch(
      `${base}/api/v1/gate?service=user-profile&environment=production&version=v2.4.1`,
    );
    expect([200, 423]).toContain(gate.status);
    // Planned maintenance of checkout three to two hours ago: counted as usual, shaded on its charts.
    expect(
      await ctx.post('/api/v1/corrections', {
        reason: 'database failover drill',
        mode: 'planned',
        window: {
          start: new Date(nowMs - 180 * MINUTE).toISOString(),
          end: new Date(nowMs - 120 * MINUTE).toISOString(),
        },
        appliesTo: { services: ['checkout'] },
      }),
    ).toBe(201);
    correctionWindow = { from: nowMs - 180 * MINUTE, to: nowMs - 120 * MINUTE };
    browser = await BrowserHarness.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  it('renders the overview from ingested traffic, sorted worst budget first', async () => {
    const { page, context, log } = await openPage(browser, `${base}/`);
    const names = await page
      .locator('#slos tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-slo')));
    expect(names.sort()).toEqual(
      [
        'checkout-availability',
        'checkout-submit-latency',
        'profile-availability',
        'profile-latency',
        'home-availability',
        'search-availability',
        'category-availability',
        'app-details-availability',
        'store-browse',
      ].sort(),
    );
    const first = await page.locator('#slos tbody tr').first().getAttribute('data-service');
    expect(first).toBe('user-profile');
    const sli = await page
      .locator('#slos tbody tr[data-service="checkout"] td.col-sli')
      .first()
      .textContent();
    expect(sli).toMatch(/^\d+(\.\d+)?%$/);
    // The gate call after the incident froze user-profile; checkout was never frozen.
    expect(
      await page.locator('#slos tbody tr[data-service="user-profile"] td.col-gate').first().textContent(),
    ).toBe('frozen');
    expect(
      await page.locator('#slos tbody tr[data-service="checkout"] td.col-gate').first().textContent(),
    ).toBe('open');
    await screenshot(page, 'overview-light');
    expectClean(log);
    await context.close();
  });

  it('filters the overview by service, state and name, and sorts by a clicked column', async () => {
    const { page, context, log } = await openPage(browser, `${base}/`);
    const rows = page.locator('#slos tbody tr');
    // Each control asks the server; the table is aria-busy until that answer is drawn.
    const settled = () => page.waitForSelector('#slos:not([aria-busy])');
    await page.selectOption('#service', 'checkout');
    await settled();
    expect(await rows.count()).toBe(2);
    expect(
      new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-service')))),
    ).toEqual(new Set(['checkout']));
    expect(page.url()).toContain('service=checkout');
    await page.selectOption('#service', '');
    await settled();
    await page.selectOption('#state', 'ok');
    await settled();
    const states = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-state')));
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(['ok']));
    await page.selectOption('#state', '');
    await settled();
    await page.fill('#search', 'latency');
    await settled();
    expect(await rows.count()).toBe(2);
    await page.fill('#search', '');
    await settled();
    await page.click('th[data-sort="name"]');
    await settled();
    const sloNames = () =>
      page.locator('#slos tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-slo')));
    const sorted = await sloNames();
    expect(sorted).toEqual([...sorted].sort());
    await page.click('th[data-sort="name"]');
    await settled();
    const reversed = await sloNames();
    expect(reversed).toEqual([...sorted].reverse());
    expectClean(log);
    await context.close();
  });

  it('draws every chart of an availability SLO with the incident, the deploy marker and the alert table', async () => {
    const { page, context, log } = await openPage(browser, `${base}/slo/profile-availability?range=6h`);
    const canvases = await drawnCanvases(page);
    expect(Object.keys(canvases).sort()).toEqual([
      'chart-budget',
      'chart-burn',
      'chart-sli',
      'chart-traffic',
    ]);
    for (const [id, painted] of Object.entries(canvases)) expect(painted, id).toBeGreaterThan(500);
    expect(await page.locator('#tiles .tile').count()).toBe(5);
    expect(await page.locator('#tiles').textContent()).toMatch(/good of/);
    expect(await page.locator('#alerts tbody tr').count()).toBe(4);
    expect(await page.locator('#deployments tbody').textContent()).toContain('v2.4.0');
    // The example SLO names its runbook and owner: the page links the one and names the other.
    expect(await page.locator('#subtitle a').getAttribute('href')).toBe(
      'https://runbooks.example.com/user-profile/availability',
    );
    expect(await page.locator('#subtitle').textContent()).toContain('owner team-profiles');
    await screenshot(page, 'detail-availability-light');
    expectClean(log);
    await context.close();
  });

  it('shades corrections on every time chart, where the band is drawn', async () => {
    const { page, context, log } = await openPage(browser, `${base}/slo/checkout-availability?range=6h`);
    const probe = `(() => {
      const chart = Chart.getChart(document.querySelector('#chart-sli'));
      const { top } = chart.chartArea;
      const pixel = (t) => Array.from(chart.ctx.getImageData(Math.round(chart.scales.x.getPixelForValue(t)) * devicePixelRatio, (top + 3) * devicePixelRatio, 1, 1).data);
      return {
        episodes: chart.options.plugins.timeMarkers.episodes.map((e) => [e.from, e.to]),
        inside: pixel(${(correctionWindow.from + correctionWindow.to) / 2}),
        outside: pixel(${correctionWindow.from - 30 * MINUTE}),
      };
    })()`;
    const drawn = (await page.evaluate(probe)) as {
      episodes: number[][];
      inside: number[];
      outside: number[];
    };
    expect(drawn.episodes).toContainEqual([correctionWindow.from, correctionWindow.to]);
    expect(drawn.inside).not.toEqual(drawn.outside);
    expectClean(log);
    await context.close();
  });

  it('shows the latency distribution of a latency SLI, in the dark theme and on a phone', async () => {
    const { page, context, log } = await openPage(browser, `${base}/slo/profile-latency?range=1d`, {
      width: 390,
      height: 844,
      colorScheme: 'dark',
    });
    expect(await page.locator('#latency-panel').isVisible()).toBe(true);
    const canvases = await drawnCanvases(page);
    expect(Object.keys(canvases)).toContain('chart-latency');
    for (const [id, painted] of Object.entries(canvases)) expect(painted, id).toBeGreaterThan(500);
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(background).toBe('rgb(18, 21, 27)');
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'detail-latency-dark-phone');
    expectClean(log);
    await context.close();
  });

  it('shows a composite with its components and weights, and draws its charts', async () => {
    const { page, context, log } = await openPage(browser, `${base}/slo/store-browse?range=6h`);
    expect(await page.locator('#composite-panel').isVisible()).toBe(true);
    // Each row: its SLO (linked), then its own SLI, objective and weight (test/browser/labels.test.ts checks the rest).
    const components = await page
      .locator('#components tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.getAttribute('data-slo'),
          tr.querySelector('a')?.getAttribute('href'),
          ...[...tr.querySelectorAll('td.num')].slice(1).map((td) => td.textContent),
        ]),
      );
    expect(components).toEqual([
      ['home-availability', '/slo/home-availability', '99.9%', '16.7%'],
      ['search-availability', '/slo/search-availability', '99.9%', '33.3%'],
      ['category-availability', '/slo/category-availability', '99.9%', '16.7%'],
      ['app-details-availability', '/slo/app-details-availability', '99.9%', '33.3%'],
    ]);
    for (const [id, painted] of Object.entries(await drawnCanvases(page)))
      expect(painted, id).toBeGreaterThan(500);
    await screenshot(page, 'detail-composite-light');
    expectClean(log);
    await context.close();
  });

  it('shows gate decisions with their reasons on the gate page', async () => {
    const { page, context, log } = await openPage(browser, `${base}/gate`);
    expect(await page.locator('#decisions tbody').textContent()).toContain('v2.4.1');
    expect(await page.locator('#services tbody tr').count()).toBe(3);
    expect(await page.locator('#services tbody tr[data-service="user-profile"]').textContent()).toContain(
      'frozen: production',
    );
    await screenshot(page, 'gate-light');
    expectClean(log);
    await context.close();
  });

  it('serves every asset the pages reference from this server', async () => {
    const seen = new Set<string>();
    const pending = ['/', '/slo/profile-availability', '/gate'];
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      let references: string[] = [];
      if (type.startsWith('text/html')) {
        references = [...text.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
        expect(text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
        expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      } else if (path.endsWith('.js') && path.startsWith('/assets/')) {
        expect(type).toMatch(/javascript/);
        references = [...text.matchAll(/from '(\.\/[^']+)'/g)].map(
          (m) => new URL(m[1]!, `${base}${path}`).pathname,
        );
      }
      for (const reference of references) {
        expect(reference.startsWith('/'), `${path} references ${reference}`).toBe(true);
        pending.push(reference);
      }
    }
    expect([...seen]).toEqual(
      expect.arrayContaining([
        '/vendor/chart.js/chart.umd.min.js',
        '/assets/style.css',
        '/assets/common.js',
        '/assets/charts.js',
        '/assets/favicon.svg',
      ]),
    );
  });
});
