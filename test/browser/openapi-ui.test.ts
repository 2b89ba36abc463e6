import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserHarness, browserTestsCanRun } from '../helpers/browser.js';
import { SloguardProcess } from '../helpers/service.js';
import { WAIT_MS } from '../helpers/wait.js';

const canRun = browserTestsCanRun();

describe.skipIf(!canRun)('the OpenAPI UI at /docs', () => {
  let service: SloguardProcess;
  let browser: BrowserHarness;

  beforeAll(async () => {
    service = await SloguardProcess.start();
    browser = await BrowserHarness.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await service?.cleanup();
  });

  it('runs under the app CSP with every asset from our origin and lists the API', async () => {
    const { page, log } = await browser.page();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${service.url}/docs`);
    // Swagger UI renders one block per operation once it has read /docs/json.
    const operations = page.locator('.opblock');
    await expect.poll(() => operations.count(), { timeout: WAIT_MS }).toBeGreaterThan(20);
    expect(await page.getByText('/api/v1/gate/evaluations', { exact: true }).count()).toBeGreaterThan(0);
    expect(log.offHostRequests).toEqual([]);
    expect(log.failedRequests).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(violations).toEqual([]);
  });
});
