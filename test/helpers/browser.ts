import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ROOT } from './service.js';
import { WAIT_MS } from './wait.js';

/** Debian's chromium (`apt-get install chromium`, done by .ci/run); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Headless, and quiet on the network: no update checks, sync or first-run calls leave the machine. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * Whether browser tests run here: CI installs chromium (.ci/run) and never skips; a developer machine without
 * it skips, and says so loudly once per test file.
 */
export function browserTestsCanRun(): boolean {
  const canRun = chromiumInstalled() || Boolean(process.env.CI);
  if (!canRun)
    console.warn(
      '\n*** SKIPPING browser tests: /usr/bin/chromium is missing (apt-get install chromium) ***\n',
    );
  return canRun;
}

/** What a page did that a test may assert on: console errors, failed loads, and requests off 127.0.0.1. */
export interface PageLog {
  consoleErrors: string[];
  pageErrors: string[];
  offHostRequests: string[];
  failedRequests: string[];
}

/** A page that logged no console or page error, asked nothing off 127.0.0.1 and had every request answered. */
export function expectClean(log: PageLog): void {
  expect(log.consoleErrors).toEqual([]);
  expect(log.pageErrors).toEqual([]);
  expect(log.offHostRequests).toEqual([]);
  expect(log.failedRequests).toEqual([]);
}

/**
 * Waits until an expression (a string: the test project is typed without the DOM library) is true in the page.
 * Not `page.waitForFunction`: past its first check it polls with eval, which the dashboard's CSP refuses.
 */
export async function untilTrue(page: Page, expression: string): Promise<void> {
  await expect.poll(() => page.evaluate(expression), { timeout: WAIT_MS, interval: 50 }).toBe(true);
}

/** One chromium per test file; each test gets a fresh context with the network fenced to 127.0.0.1. */
export class BrowserHarness {
  private constructor(private readonly browser: Browser) {}

  static async launch(): Promise<BrowserHarness> {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    return new BrowserHarness(browser);
  }

  /**
   * A page whose every request is intercepted: anything not for 127.0.0.1 is recorded and aborted, so a
   * CDN reference fails the test instead of quietly working on a developer's laptop.
   */
  async page(
    options: {
      width?: number;
      height?: number;
      colorScheme?: 'light' | 'dark';
      /** The viewer's time zone (IANA name); the machine's when not given. */
      timezoneId?: string;
    } = {},
  ): Promise<{ page: Page; context: BrowserContext; log: PageLog }> {
    const context = await this.browser.newContext({
      viewport: { width: options.width ?? 1400, height: options.height ?? 900 },
      colorScheme: options.colorScheme ?? 'light',
      ...(options.timezoneId && { timezoneId: options.timezoneId }),
    });
    const log: PageLog = { consoleErrors: [], pageErrors: [], offHostRequests: [], failedRequests: [] };
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || url.hostname === '127.0.0.1') return route.continue();
      log.offHostRequests.push(url.href);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') log.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => log.pageErrors.push(String(error)));
    page.on('requestfailed', (request) => log.failedRequests.push(request.url()));
    page.on('response', (response) => {
      if (response.status() >= 400) log.failedRequests.push(`${response.status()} ${response.url()}`);
    });
    return { page, context, log };
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Saves a full-page screenshot under test-artifacts/ (gitignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Whether each canvas on the page has drawn something: counts pixels that are not transparent. A chart
 * that failed to render leaves its canvas fully transparent.
 */
export async function drawnCanvases(page: Page): Promise<Record<string, number>> {
  // A string, not a function: the test project is typed without the DOM library.
  return page.evaluate(CANVAS_PIXELS) as Promise<Record<string, number>>;
}

const CANVAS_PIXELS = `(() => {
  const result = {};
  for (const canvas of document.querySelectorAll('canvas')) {
    if (canvas.closest('[hidden]')) continue;
    const context = canvas.getContext('2d');
    if (!context || canvas.width === 0 || canvas.height === 0) { result[canvas.id] = 0; continue; }
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    result[canvas.id] = painted;
  }
  return result;
})()`;
