import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxLine, testApp } from '../helpers/app.js';
import { ARTIFACTS, BrowserHarness, chromiumInstalled, screenshot } from '../helpers/browser.js';
import { tempDir } from '../helpers/tmp.js';

const canRun = chromiumInstalled() || Boolean(process.env.CI);
if (!canRun)
  console.warn('\n*** SKIPPING browser tests: /usr/bin/chromium is missing (apt-get install chromium) ***\n');

const SERVICES = 50;
const PER_SERVICE = 10;

/** 500 SLOs: 50 services with 10 routes each, half availability and half latency. */
function definitions(): string {
  const documents: string[] = [];
  for (let s = 0; s < SERVICES; s++) {
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

describe.skipIf(!canRun)('overview with 500 SLOs', () => {
  const dir = tempDir('sloguard-500-');
  let ctx: Awaited<ReturnType<typeof testApp>>;
  let browser: BrowserHarness;
  let base = '';

  beforeAll(async () => {
    dir.file('many.yaml', definitions());
    ctx = await testApp({ definitionsPath: dir.path });
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
    const nowMs = Date.now() - 60_000;
    for (let s = 0; s < SERVICES; s++) {
      const lines: string[] = [];
      for (let r = 0; r < PER_SERVICE; r++) {
        for (let i = 0; i < 40; i++) {
          const failed = s % 7 === 0 && i % 9 === 0;
          lines.push(
            nginxLine(nowMs - i * 30_000, 'GET', `/r${r}/${i}`, failed ? 503 : 200, 0.05 + (i % 8) * 0.05),
          );
        }
      }
      await ctx.app.inject({
        method: 'POST',
        url: `/api/v1/ingest/lb?format=nginx&service=svc${s}`,
        payload: lines.join('\n'),
        headers: { 'content-type': 'text/plain' },
      });
    }
    ctx.sloguard.pipeline.flush();
    expect(ctx.sloguard.evaluator.evaluateAll()).toHaveLength(SERVICES * PER_SERVICE);
    browser = await BrowserHarness.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
    dir.cleanup();
  });

  it('loads and renders every row, filters instantly, and reports the time it took', async () => {
    const { page, context, log } = await browser.page();
    const started = Date.now();
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-loaded="true"]');
    const loadedMs = Date.now() - started;
    // From navigation start to the table rendered, as the browser itself measured it.
    const inPageMs = Number(await page.evaluate('performance.now()'));
    expect(await page.locator('#slos tbody tr').count()).toBe(SERVICES * PER_SERVICE);
    const filterStarted = Date.now();
    await page.selectOption('#service', 'svc7');
    expect(await page.locator('#slos tbody tr').count()).toBe(PER_SERVICE);
    const filterMs = Date.now() - filterStarted;
    // Again with a warm browser, as someone who keeps the dashboard open sees it.
    const reloadStarted = Date.now();
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-loaded="true"]');
    const warmMs = Date.now() - reloadStarted;
    expect(await page.locator('#slos tbody tr').count()).toBe(SERVICES * PER_SERVICE);
    const summary = `overview with ${SERVICES * PER_SERVICE} SLOs: first load rendered ${loadedMs} ms after goto (${Math.round(inPageMs)} ms from navigation start, in the page); warm reload ${warmMs} ms; service filter ${filterMs} ms`;
    console.log(summary);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'overview-500.txt'), `${summary}\n`);
    await screenshot(page, 'overview-500');
    expect(log.consoleErrors).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(log.offHostRequests).toEqual([]);
    await context.close();
  });
});
