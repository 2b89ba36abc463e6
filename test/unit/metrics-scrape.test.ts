import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { measureScrape, meteredParts } from '../helpers/scrapeFixtures.js';

/** Enough SLOs that the per-SLO families outweigh everything else (about 35,000 series). */
const SLOS = 4_000;

/**
 * The exposition's family headers and sloguard's own series, whole; the process's own series (CPU, memory, GC,
 * active handles) move between two scrapes and are left out.
 */
const lines = (text: string) => text.split('\n').filter((line) => !/^(nodejs|process)_/.test(line));

describe('GET /metrics at thousands of SLOs (issue #23)', () => {
  it('answers what prom-client’s registry.metrics() answers, line for line', async () => {
    const metrics = createMetrics(meteredParts(SLOS));
    const sliced = await metrics.exposition();
    const whole = await metrics.registry.metrics();
    expect(sliced.length).toBeGreaterThan(1_000_000);
    expect(lines(sliced)).toEqual(lines(whole));
    // Escaped label values come through as prom-client writes them.
    expect(sliced).toContain(
      'sloguard_slo_burn_rate{slo="slo-0-\\"quoted\\"\\\\path",service="service-0",window="5m"} 0',
    );
  });

  it('gives the event loop turns during a scrape: no hold above a quarter of the scrape', async () => {
    const metrics = createMetrics(meteredParts(SLOS));
    // The best of three, so that one garbage collection on a loaded machine does not decide it.
    const shares: number[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await measureScrape(() => metrics.exposition());
      shares.push(run.longestHoldMs / run.wallMs);
    }
    expect(Math.min(...shares)).toBeLessThan(0.25);
  });

  it('keeps none of the per-SLO series once a scrape has answered', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const liveHeap = () => {
      collect();
      collect();
      return process.memoryUsage().heapUsed;
    };
    // A first scrape elsewhere compiles what a scrape runs, so the figure below is what a scrape keeps.
    await createMetrics(meteredParts(10)).exposition();
    const metrics = createMetrics(meteredParts(SLOS));
    const before = liveHeap();
    await metrics.exposition();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // prom-client gauges kept every labelled series until the next scrape: about 7 MB at 4,000 SLOs.
    expect(liveHeap() - before).toBeLessThan(3_000_000);
  });

  it('shares one build between scrapes that arrive together', async () => {
    const parts = meteredParts(SLOS);
    let reads = 0;
    const current = parts.evaluator.current.bind(parts.evaluator);
    parts.evaluator.current = () => {
      reads++;
      return current();
    };
    const metrics = createMetrics(parts);
    await metrics.exposition();
    const perBuild = reads;
    expect(perBuild).toBeGreaterThan(0);
    const [first, second] = await Promise.all([metrics.exposition(), metrics.exposition()]);
    expect(second).toBe(first);
    expect(reads).toBe(2 * perBuild);
    // Once done, the next scrape builds afresh (the figures move).
    await metrics.exposition();
    expect(reads).toBe(3 * perBuild);
  });
});
