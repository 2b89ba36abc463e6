import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { LbScraper, MAX_SCRAPE_BYTES } from '../../src/ingest/scrape/scraper.js';
import { createSloguard, type Sloguard } from '../../src/service.js';
import { ScrapeCounterStore } from '../../src/store/scrapeCounters.js';
import { AnswerServer } from '../helpers/answerServer.js';
import { ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The scraper against an exporter on 127.0.0.1 whose counters the test sets (HAProxy's metric names), with
 * the clock in the test's hands: baselines, increases, counter resets, gaps and restarts. The real HAProxy
 * exporter is scraped in lb-tail.
 */
describe('LbScraper', () => {
  let dir: ReturnType<typeof tempDir>;
  let sloguard: Sloguard;
  let server: Server;
  let url: string;
  let counts = { ok: 0, failed: 0 };
  let nowMs = 0;
  const warnings: string[] = [];

  beforeEach(async () => {
    dir = tempDir('sloguard-scraper-');
    sloguard = createSloguard({
      ...loadConfig({ SLOGUARD_LOG_LEVEL: 'silent' }),
      databasePath: join(dir.path, 'sloguard.db'),
      definitionsPath: join(ROOT, 'slo-definitions'),
    });
    server = createServer((_request, response) => {
      response.end(`# TYPE haproxy_backend_http_responses_total counter
haproxy_backend_http_responses_total{proxy="be_app",code="2xx"} ${counts.ok}
haproxy_backend_http_responses_total{proxy="be_app",code="5xx"} ${counts.failed}
haproxy_backend_http_responses_total{proxy="be_other",code="2xx"} 7
`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/metrics`;
    counts = { ok: 100, failed: 5 };
    nowMs = Date.UTC(2026, 10, 23, 10, 0, 0);
    warnings.length = 0;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    sloguard.close();
    dir.cleanup();
  });

  const scraper = () =>
    new LbScraper(
      {
        url,
        kind: 'haproxy',
        source: 'lb',
        services: { be_app: 'web' },
        intervalMs: 15_000,
        maxGapMs: 600_000,
      },
      {
        pipeline: sloguard.pipeline,
        routes: sloguard.routes,
        store: new ScrapeCounterStore(sloguard.db),
        log: { info() {}, warn: (_details, message) => warnings.push(message) },
        now: () => nowMs,
      },
    );
  const minutes = () =>
    sloguard.db
      .prepare('SELECT minute, total, errors FROM minute_buckets ORDER BY minute')
      .all()
      .map((row) => {
        const { minute, total, errors } = row as { minute: number; total: number; errors: number };
        return [new Date(minute * 60_000).toISOString().slice(11, 16), total, errors];
      });

  it('counts increases after the baseline, in the minute in the middle of the interval', async () => {
    const s = scraper();
    await s.scrapeOnce();
    expect(minutes()).toEqual([]);
    counts = { ok: 130, failed: 8 };
    nowMs += 90_000; // 10:00:00 → 10:01:30: the middle is 10:00:45
    await s.scrapeOnce();
    expect(minutes()).toEqual([['10:00', 33, 3]]);
  });

  it('takes a counter that went down as reset (counting from zero), and carries on after a restart', async () => {
    await scraper().scrapeOnce();
    counts = { ok: 4, failed: 1 }; // HAProxy restarted
    nowMs += 60_000;
    const restarted = scraper(); // a new sloguard process: the baseline comes from the store
    await restarted.scrapeOnce();
    expect(minutes()).toEqual([['10:00', 5, 1]]);
  });

  it('does not attribute an increase over a gap longer than maxGap, and says so', async () => {
    await scraper().scrapeOnce();
    counts = { ok: 1000, failed: 50 };
    nowMs += 3_600_000;
    const s = scraper();
    await s.scrapeOnce();
    expect(minutes()).toEqual([]);
    expect(warnings).toContain('scrape gap longer than maxGap: the increase over it is not counted');
    counts = { ok: 1010, failed: 50 };
    nowMs += 15_000;
    await s.scrapeOnce();
    expect(minutes()).toHaveLength(1);
    expect(minutes()[0]!.slice(1)).toEqual([10, 0]);
  });

  it('warns once about a backend no service is mapped to', async () => {
    const s = scraper();
    await s.scrapeOnce();
    nowMs += 15_000;
    await s.scrapeOnce();
    nowMs += 15_000;
    await s.scrapeOnce();
    expect(warnings.filter((w) => w.startsWith('no service for this backend'))).toHaveLength(1);
  });

  it('fails a scrape whose page never ends once MAX_SCRAPE_BYTES are read, and counts nothing of it', async () => {
    const s = scraper();
    await s.scrapeOnce();
    const endless = await AnswerServer.start({
      status: 200,
      head: '# TYPE haproxy_backend_http_responses_total counter\n',
      endless: true,
    });
    try {
      url = endless.url;
      counts = { ok: 130, failed: 8 };
      nowMs += 15_000;
      await expect(scraper().scrapeOnce()).rejects.toThrow(
        `the answer is larger than the maximum of ${MAX_SCRAPE_BYTES} bytes`,
      );
      expect(endless.answered[0]!.bytesWritten).toBeLessThan(2 * MAX_SCRAPE_BYTES);
      expect(minutes()).toEqual([]);
    } finally {
      await endless.stop();
    }
  });
});
