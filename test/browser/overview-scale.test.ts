import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxLine, testApp } from '../helpers/app.js';
import { ARTIFACTS, BrowserHarness, browserTestsCanRun, screenshot } from '../helpers/browser.js';
import { loadPerCore } from '../helpers/cpu.js';
import { tempDir } from '../helpers/tmp.js';

const canRun = browserTestsCanRun();

/** Rows the overview draws at most (dashboards/assets/overview.js PAGE_SIZE). */
const PAGE_SIZE = 100;
const PER_SERVICE = 10;
/** Services the gate page shows at most (dashboards/assets/gate.js SERVICES_PER_PAGE). */
const SERVICES_PER_PAGE = 25;
/**
 * First paint target at 10,000 SLOs is 1 s (issue #23); asserted with room for a loaded 2-core machine
 * running other suites, and printed so docs/benchmarks.md can quote the real figure. On a machine busier
 * than its cores the wall-time limits stretch by its load per core (4.5 s seen with two CPU hogs beside).
 */
const FIRST_PAINT_LIMIT_MS = 3000;

/** `services` × 10 SLOs: 10 routes each, half availability and half latency. */
function definitions(services: number): string {
  const documents: string[] = [];
  for (let s = 0; s < services; s++) {
    for (let r = 0; r < PER_SERVICE; r++) {
      const latency = r % 2 === 1;
      documents.push(`apiVersion: sloguard/v1
kind: SLO
metadata: { name: svc${s}-route${r}-${latency ? 'latency' : 'availability'}, service: svc${s} }
spec:
  indicator:
    source: loadbalancer
    select: { route: "/r${r}/:id" }
    good: ${latency ? '{ latency: "<= 300ms" }' : '{ status: "< 500" }'}
  objective: ${latency ? 99 : 99.9}
  window: 28d`);
    }
  }
  return documents.join('\n---\n');
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

function overviewAt(services: number, linesPerRoute: number, setupBudgetMs: number) {
  const slos = services * PER_SERVICE;
  /** Room for the setup budget stretched by a busy machine's load. */
  const setupTimeoutMs = 4 * setupBudgetMs;
  describe.skipIf(!canRun)(`overview with ${slos} SLOs`, () => {
    const dir = tempDir(`sloguard-${slos}-`);
    let ctx: Awaited<ReturnType<typeof testApp>>;
    let browser: BrowserHarness;
    let base = '';
    let setup = '';

    beforeAll(async () => {
      const started = Date.now();
      dir.file('many.yaml', definitions(services));
      ctx = await testApp({ definitionsPath: dir.path });
      const loadedMs = Date.now() - started;
      await ctx.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
      const nowMs = Date.now() - 60_000;
      for (let s = 0; s < services; s++) {
        const lines: string[] = [];
        for (let r = 0; r < PER_SERVICE; r++) {
          for (let i = 0; i < linesPerRoute; i++) {
            const failed = s % 7 === 0 && i % 9 === 0;
            lines.push(
              nginxLine(nowMs - i * 30_000, 'GET', `/r${r}/${i}`, failed ? 503 : 200, 0.05 + (i % 8) * 0.05),
            );
          }
        }
        const response = await ctx.app.inject({
          method: 'POST',
          url: `/api/v1/ingest/lb?format=nginx&service=svc${s}`,
          payload: lines.join('\n'),
          headers: { 'content-type': 'text/plain' },
        });
        expect(response.statusCode, response.body).toBe(202);
      }
      ctx.sloguard.pipeline.flush();
      const evaluateStarted = Date.now();
      expect(ctx.sloguard.evaluator.evaluateAll()).toHaveLength(slos);
      const evaluateMs = Date.now() - evaluateStarted;
      setup = `setup: definitions loaded and first evaluation ${loadedMs} ms, ingest ${evaluateStarted - started - loadedMs} ms, evaluation with data ${evaluateMs} ms`;
      expect(Date.now() - started).toBeLessThan(setupBudgetMs * loadPerCore());
      browser = await BrowserHarness.launch();
    }, setupTimeoutMs);
    afterAll(async () => {
      await browser?.close();
      await ctx?.close();
      dir.cleanup();
    });

    it('paints the first page within the target, keeps the DOM to one page, and asks the server for filters and pages', async () => {
      const { page, context, log } = await browser.page();
      const rows = page.locator('#slos tbody tr');
      const settled = () => page.waitForSelector('#slos:not([aria-busy])');
      const started = Date.now();
      await page.goto(`${base}/`);
      await page.waitForSelector('body[data-loaded="true"]');
      const loadedMs = Date.now() - started;
      // From navigation start to the table rendered, as the browser itself measured it.
      const inPageMs = Number(await page.evaluate('performance.now()'));
      expect(await rows.count()).toBe(Math.min(PAGE_SIZE, slos));
      expect(await page.textContent('#shown')).toBe(`1–${Math.min(PAGE_SIZE, slos)} of ${slos}`);
      expect(await page.textContent('#summary .count b')).toBe(String(slos));
      const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-slo')));

      const nextStarted = Date.now();
      await page.click('#next');
      await settled();
      const nextMs = Date.now() - nextStarted;
      const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-slo')));
      expect(secondPage).toHaveLength(Math.min(PAGE_SIZE, slos - PAGE_SIZE));
      expect(secondPage.filter((name) => firstPage.includes(name))).toEqual([]);

      const filterStarted = Date.now();
      await page.selectOption('#service', 'svc7');
      await settled();
      const filterMs = Date.now() - filterStarted;
      expect(await rows.count()).toBe(PER_SERVICE);
      expect(await page.textContent('#shown')).toBe(`1–${PER_SERVICE} of ${PER_SERVICE}`);

      // Again with a warm browser, as someone who keeps the dashboard open sees it.
      const reloadStarted = Date.now();
      await page.goto(`${base}/`);
      await page.waitForSelector('body[data-loaded="true"]');
      const warmMs = Date.now() - reloadStarted;
      expect(await rows.count()).toBe(Math.min(PAGE_SIZE, slos));
      const elements = Number(await page.evaluate('document.getElementsByTagName("*").length'));

      // A link to a page past the end (SLOs removed since) shows the last page instead of an empty table.
      await page.goto(`${base}/?sort=name&dir=descending&offset=999900`);
      await page.waitForSelector('body[data-loaded="true"]');
      const lastStart = Math.floor((slos - 1) / PAGE_SIZE) * PAGE_SIZE;
      expect(await page.textContent('#shown')).toBe(`${lastStart + 1}–${slos} of ${slos}`);
      expect(page.url()).toContain(`offset=${lastStart}`);

      // The API's answer time for one page, over real HTTP, median of 9.
      const apiMs: number[] = [];
      for (let i = 0; i < 9; i++) {
        const apiStarted = performance.now();
        const response = await fetch(`${base}/api/v1/slos?limit=${PAGE_SIZE}&offset=${i * 10}&sort=budget`);
        const body = (await response.json()) as { slos: unknown[]; total: number };
        apiMs.push(performance.now() - apiStarted);
        expect(body.total).toBe(slos);
      }

      const summary = `overview with ${slos} SLOs: first load rendered ${loadedMs} ms after goto (${Math.round(inPageMs)} ms from navigation start, in the page); warm reload ${warmMs} ms; next page ${nextMs} ms; service filter ${filterMs} ms; ${elements} DOM elements; API page of ${PAGE_SIZE} sorted by budget ${median(apiMs).toFixed(1)} ms median of 9; ${setup}`;
      console.log(summary);
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, `overview-${slos}.txt`), `${summary}\n`);
      await screenshot(page, `overview-${slos}`);
      expect(inPageMs).toBeLessThan(FIRST_PAINT_LIMIT_MS * loadPerCore());
      expect(log.consoleErrors).toEqual([]);
      expect(log.pageErrors).toEqual([]);
      expect(log.offHostRequests).toEqual([]);
      await context.close();
    });

    it('the gate page shows a page of services and asks the SLO list for pages, never the whole list', async () => {
      const { page, context, log } = await browser.page();
      const sloRequests: URL[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname === '/api/v1/slos') sloRequests.push(url);
      });
      const rows = page.locator('#services tbody tr');
      await page.goto(`${base}/gate`);
      await page.waitForSelector('body[data-loaded="true"]');
      const inPageMs = Number(await page.evaluate('performance.now()'));
      const shown = Math.min(SERVICES_PER_PAGE, services);
      expect(await rows.count()).toBe(shown);
      expect(await page.textContent('#shown')).toBe(`1–${shown} of ${services}`);
      // Every ask is a page: one SLO for the service names, one per shown service for its lowest budget.
      expect(sloRequests.length).toBe(shown + 1);
      for (const url of sloRequests) expect(url.searchParams.get('limit'), url.href).toBe('1');

      // The lowest budget shown is the service's lowest, as the whole list would give it.
      const svc7 = (await ctx.app.inject({ url: '/api/v1/slos?service=svc7' })).json() as {
        slos: Array<{ budget: { remaining_ratio: number | null } }>;
      };
      const lowest = Math.min(...svc7.slos.map((s) => s.budget.remaining_ratio ?? Number.POSITIVE_INFINITY));
      await page.fill('#service-filter', 'svc7');
      await page.waitForSelector('#services tbody tr[data-service="svc7"]');
      const filtered = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-service')));
      expect(filtered.length).toBeGreaterThan(0);
      for (const service of filtered) expect(service).toContain('svc7');
      expect(await page.textContent('#services tbody tr[data-service="svc7"] td.col-budget .value')).toBe(
        `${(lowest * 100).toFixed(1).replace(/\.?0+$/, '')}%`,
      );

      console.log(`gate page with ${slos} SLOs: rendered ${Math.round(inPageMs)} ms from navigation start`);
      expect(inPageMs).toBeLessThan(FIRST_PAINT_LIMIT_MS * loadPerCore());
      expect(log.consoleErrors).toEqual([]);
      expect(log.pageErrors).toEqual([]);
      await context.close();
    });
  });
}

overviewAt(50, 40, 30_000);
overviewAt(1000, 4, 60_000);
