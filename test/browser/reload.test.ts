import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserHarness, browserTestsCanRun } from '../helpers/browser.js';
import { SloguardProcess } from '../helpers/service.js';
import { WAIT_MS } from '../helpers/wait.js';

const canRun = browserTestsCanRun();

/** The overview's poll (dashboards/assets/overview.js), run on the page's fake clock. */
const REFRESH_MS = 30_000;

describe.skipIf(!canRun)('the overview follows a reload without a page reload', () => {
  let service: SloguardProcess;
  let browser: BrowserHarness;

  beforeAll(async () => {
    service = await SloguardProcess.start({ env: { SLOGUARD_WATCH_DEFINITIONS: 'false' } });
    browser = await BrowserHarness.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await service?.cleanup();
  });

  it('shows an SLO added by a reload, then drops it when it is removed', async () => {
    const { page, log } = await browser.page();
    await page.clock.install();
    await page.goto(`${service.url}/`);
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: WAIT_MS }).toBeGreaterThan(0);
    const initial = await rows.count();
    let loads = 0;
    page.on('load', () => {
      loads += 1;
    });

    const file = join(service.definitions, 'added.yaml');
    writeFileSync(
      file,
      `apiVersion: sloguard/v1
kind: SLO
metadata: { name: added-by-reload, service: reloaded }
spec:
  indicator: { source: loadbalancer }
  objective: 99
  window: 28d
`,
    );
    expect((await fetch(`${service.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    await page.clock.fastForward(REFRESH_MS);
    await expect
      .poll(() => page.getByText('added-by-reload').count(), { timeout: WAIT_MS })
      .toBeGreaterThan(0);
    expect(await rows.count()).toBe(initial + 1);

    rmSync(file);
    expect((await fetch(`${service.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    await page.clock.fastForward(REFRESH_MS);
    await expect.poll(() => page.getByText('added-by-reload').count(), { timeout: WAIT_MS }).toBe(0);
    expect(await rows.count()).toBe(initial);
    expect(loads).toBe(0);
    expect(log.pageErrors).toEqual([]);
  });
});
