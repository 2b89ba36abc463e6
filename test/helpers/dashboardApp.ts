import { cpSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { testApp } from './app.js';
import type { BrowserHarness, PageLog } from './browser.js';
import { ROOT } from './service.js';
import { tempDir } from './tmp.js';

/**
 * testApp on a copy of the example SLOs (with the demo's play-store SLOs and Browse composite when asked, and
 * any further definition files), listening on a free 127.0.0.1 port: `base` is its URL. `close` also removes
 * the copy.
 */
export async function listeningApp(
  options: { prefix: string; playStore?: boolean; files?: Record<string, string> },
  ...[overrides, env, appOptions]: Parameters<typeof testApp>
) {
  const definitions = tempDir(options.prefix);
  cpSync(join(ROOT, 'slo-definitions'), definitions.path, { recursive: true });
  if (options.playStore)
    cpSync(join(ROOT, 'src/demo/play-store.yaml'), join(definitions.path, 'play-store.yaml'));
  for (const [name, text] of Object.entries(options.files ?? {})) definitions.file(name, text);
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
