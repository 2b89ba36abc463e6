import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { exampleDefinitions, testApp } from './app.js';
import type { BrowserHarness, PageLog } from './browser.js';

/**
 * testApp on exampleDefinitions, listening on a free 127.0.0.1 port: `base` is its URL. `close` also removes
 * the copy.
 */
export async function listeningApp(
  options: { prefix: string; playStore?: boolean; files?: Record<string, string> },
  ...[overrides, env, appOptions]: Parameters<typeof testApp>
) {
  const definitions = exampleDefinitions(options.prefix, options);
  const ctx = await testApp({ definitionsPath: definitions.path, ...overrides }, env, appOptions);
  await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
  return {
    ...ctx,
    base,
    definitions,
    /** POSTs `body` to `path` over HTTP (a string as text, anything else as JSON); resolves with the status. */
    async post(path: string, body: unknown): Promise<number> {
      const text = typeof body === 'string';
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': text ? 'text/plain' : 'application/json' },
        body: text ? body : JSON.stringify(body),
      });
      return response.status;
    },
    async close() {
      await ctx.close();
      definitions.cleanup();
    },
  };
}

/** A fresh page of `browser` at `url`, once the dashboard page says it has loaded. */
export async function openPage(
  browser: BrowserHarness,
  url: string,
  options: Parameters<BrowserHarness['page']>[0] = {},
): Promise<{ page: Page; context: BrowserContext; log: PageLog }> {
  const opened = await browser.page(options);
  await opened.page.goto(url);
  await opened.page.waitForSelector('body[data-loaded="true"]');
  return opened;
}
