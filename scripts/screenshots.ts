/**
 * `npm run screenshots`: regenerates the dashboard screenshots of the docs from the demo. Starts `npm run demo`
 * on a free port, waits for its story to reach the checkout incident (the page sent, the budget spent, the next
 * release denied), drives Debian's chromium through playwright-core over every page and writes the PNGs into
 * docs/. Every request off 127.0.0.1 is refused and any console error fails the run, as in the browser tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');
const DOCS = join(ROOT, 'docs');
const CHROMIUM = '/usr/bin/chromium';
/** The demo's story reaches the denied release about 130 s after live traffic starts; a loaded machine is slower. */
const STORY_DEADLINE_MS = 8 * 60_000;

interface Shot {
  file: string;
  path: string;
  /** What must be on the page before it is taken. */
  ready: string;
}

const SHOTS: readonly Shot[] = [
  { file: 'dashboard.png', path: '/slo/checkout-availability?range=15m', ready: 'canvas#chart-sli' },
  { file: 'overview.png', path: '/', ready: '#slos tbody tr' },
  {
    file: 'slo-breakdown.png',
    path: '/slo/checkout-availability?range=1h&breakdown=bad',
    ready: '#breakdown[data-loaded="true"] tbody tr',
  },
  { file: 'slo-month.png', path: '/slo/checkout-availability?range=window', ready: 'canvas#chart-budget' },
  {
    file: 'composite.png',
    path: '/slo/store-browse?range=window&breakdown=bad',
    ready: '#breakdown[data-loaded="true"]',
  },
  { file: 'gate.png', path: '/gate', ready: 'body[data-loaded="true"]' },
  { file: 'incidents.png', path: '/incidents', ready: 'body[data-loaded="true"]' },
];

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function getJson<T>(url: string): Promise<T | undefined> {
  const response = await fetch(url).catch(() => undefined);
  return response?.ok ? ((await response.json()) as T) : undefined;
}

/** Polls `check` every second until it holds or the deadline passes (then throws naming `what`). */
async function until(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadlineMs) throw new Error(`screenshots: ${what} did not happen in time`);
    await new Promise((done) => setTimeout(done, 1000));
  }
}

/** The demo's story at the moment worth showing: checkout paging, its budget spent and a release denied. */
async function waitForIncident(base: string, demo: ChildProcess): Promise<void> {
  const deadline = Date.now() + STORY_DEADLINE_MS;
  const alive = () => demo.exitCode === null && demo.signalCode === null;
  await until('the checkout page', deadline, async () => {
    if (!alive()) throw new Error(`screenshots: the demo exited with ${demo.exitCode}`);
    const slo = await getJson<{ firing: string | null }>(`${base}/api/v1/slos/checkout-availability`);
    return slo?.firing === 'page';
  });
  await until('a denied release', deadline, async () => {
    const answer = await getJson<{ decisions: Array<{ decision: string }> }>(
      `${base}/api/v1/gate/decisions?service=checkout`,
    );
    return answer?.decisions.some((d) => d.decision === 'deny') ?? false;
  });
}

async function shoot(page: Page, base: string, shot: Shot): Promise<void> {
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto(`${base}${shot.path}`);
  await page.waitForSelector('body[data-loaded="true"]');
  await page.waitForSelector(shot.ready);
  const file = join(DOCS, shot.file);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`wrote docs/${shot.file}`);
}

async function main(): Promise<void> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const demo = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/demo/demo.ts')], {
    cwd: ROOT,
    env: { ...process.env, DEMO_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    await waitForIncident(base, demo);
    const context = await browser.newContext({ colorScheme: 'light', deviceScaleFactor: 1 });
    const problems: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
      problems.push(`request off 127.0.0.1: ${url.href}`);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error}`));
    for (const shot of SHOTS) await shoot(page, base, shot);
    if (problems.length > 0) throw new Error(`screenshots:\n${problems.join('\n')}`);
  } finally {
    await browser.close();
    if (demo.exitCode === null && demo.signalCode === null) {
      const exited = new Promise((done) => demo.once('exit', done));
      demo.kill('SIGTERM');
      await exited;
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
