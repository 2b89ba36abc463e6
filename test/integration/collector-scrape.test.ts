import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { LbScraper } from '../../src/ingest/scrape/scraper.js';
import type { TimeSeries } from '../../src/remote/writeRequest.js';
import { createSloguard, type Sloguard } from '../../src/service.js';
import { ScrapeCounterStore } from '../../src/store/scrapeCounters.js';
import { ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Load-balancer scraping in the collector role (issue #21): the increases a scrape finds become the collector's
 * counters instead of buckets, through the same scraper and pipeline as one process.
 */
let dir: ReturnType<typeof tempDir> | undefined;
let sloguard: Sloguard | undefined;
let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await sloguard?.collector?.stop();
  sloguard?.close();
  dir?.cleanup();
});

it('turns scraped increases into counters, and writes no bucket', async () => {
  dir = tempDir('sloguard-collector-scrape-');
  const path = dir.path;
  sloguard = createSloguard({
    ...loadConfig({
      SLOGUARD_LOG_LEVEL: 'silent',
      SLOGUARD_COLLECTOR_REMOTE_WRITE_URL: 'http://127.0.0.1:9/api/v1/write',
      SLOGUARD_COLLECTOR_BUFFER_PATH: join(path, 'buffer.db'),
      SLOGUARD_COLLECTOR_ID: 'scraper',
    }),
    databasePath: join(path, 'sloguard.db'),
    definitionsPath: join(ROOT, 'slo-definitions'),
  });
  let counts = { ok: 100, failed: 5 };
  server = createServer((_request, response) =>
    response.end(`# TYPE haproxy_backend_http_responses_total counter
haproxy_backend_http_responses_total{proxy="be_app",code="2xx"} ${counts.ok}
haproxy_backend_http_responses_total{proxy="be_app",code="5xx"} ${counts.failed}
`),
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  let nowMs = Date.now() - 120_000;
  const scraper = new LbScraper(
    {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
      kind: 'haproxy',
      source: 'lb',
      services: { be_app: 'checkout' },
      intervalMs: 15_000,
      maxGapMs: 600_000,
    },
    {
      pipeline: sloguard.pipeline,
      routes: sloguard.routes,
      store: new ScrapeCounterStore(sloguard.db),
      log: { info() {}, warn() {} },
      now: () => nowMs,
    },
  );
  await scraper.scrapeOnce();
  counts = { ok: 130, failed: 8 };
  nowMs += 60_000;
  await scraper.scrapeOnce();
  const series = [...sloguard.collector!.counters.samplesAt(60_000, 15_000)];
  const value = (name: string) =>
    series
      .filter((s: TimeSeries) => s.labels.some((l) => l.name === '__name__' && l.value === name))
      .reduce((total, s) => total + s.samples.at(-1)!.value, 0);
  expect([value('sloguard_requests_total'), value('sloguard_request_errors_total')]).toEqual([33, 3]);
  expect(series.every((s) => s.labels.some((l) => l.name === 'source' && l.value === 'lb'))).toBe(true);
  expect(sloguard.db.prepare('SELECT count(*) AS n FROM minute_buckets').get()).toEqual({ n: 0 });
});
