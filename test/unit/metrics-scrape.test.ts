import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { countFamiliesStarted, measureScrape, meteredParts, scrapeText } from '../helpers/scrapeFixtures.js';

/** Enough SLOs that the per-SLO families outweigh everything else (about 35,000 series). */
const SLOS = 4_000;

/**
 * The exposition's family headers and sloguard's own series, whole; the process's own series (CPU, memory, GC,
 * active handles) move between two scrapes and are left out.
 */
/** Resolves once the stream has closed (at once if it has), whether or not it failed. */
const closed = async (stream: Readable) => {
  if (!stream.closed) await new Promise((resolve) => stream.once('close', resolve));
};

const lines = (text: string) => text.split('\n').filter((line) => !/^(nodejs|process)_/.test(line));

describe('GET /metrics at thousands of SLOs (issue #23)', () => {
  it('answers what prom-client’s registry.metrics() answers, line for line', async () => {
    const metrics = createMetrics(meteredParts(SLOS));
    const sliced = await scrapeText(metrics);
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
      const run = await measureScrape(() => scrapeText(metrics));
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
    await scrapeText(createMetrics(meteredParts(10)));
    const metrics = createMetrics(meteredParts(SLOS));
    const before = liveHeap();
    await scrapeText(metrics);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // prom-client gauges kept every labelled series until the next scrape: about 7 MB at 4,000 SLOs.
    expect(liveHeap() - before).toBeLessThan(3_000_000);
  });

  it('streams a slice at a time: a scrape read in part has built the slices read and one more at most', async () => {
    const parts = meteredParts(SLOS);
    const familiesStarted = countFamiliesStarted(parts);
    const stream = createMetrics(parts).scrape()!;
    // The first per-SLO family's first slice (2,000 SLOs of 4,000); six more per-SLO families follow it.
    let read = '';
    for await (const chunk of stream) {
      read += chunk as string;
      if (read.includes('sloguard_slo_sli_ratio{')) break;
    }
    await closed(stream);
    expect(familiesStarted()).toBe(1);
    expect(read).not.toContain('sloguard_slo_objective_ratio');
  });

  it('streams at most `inFlight` scrapes at once; one that ends or is destroyed frees its slot', async () => {
    const metrics = createMetrics(meteredParts(100), { inFlight: 2, deadlineMs: 60_000 });
    const first = metrics.scrape()!;
    const second = metrics.scrape()!;
    expect(metrics.scrape()).toBeUndefined();
    const whole = await scrapeText({ ...metrics, scrape: () => first });
    expect(whole).toContain('sloguard_slo_sli_ratio{slo="slo-1",service="service-1"}');
    await closed(first);
    const third = metrics.scrape()!;
    expect(metrics.scrape()).toBeUndefined();
    second.destroy();
    await closed(second);
    const fourth = metrics.scrape()!;
    expect(fourth).toBeDefined();
    for (const stream of [third, fourth]) stream.destroy();
  });

  it('cuts off a scrape not read to its end by the deadline, and frees its slot', async () => {
    const metrics = createMetrics(meteredParts(100), { inFlight: 1, deadlineMs: 200 });
    const unread = metrics.scrape()!;
    expect(metrics.scrape()).toBeUndefined();
    const [error] = (await once(unread, 'error')) as [Error];
    expect(error.message).toMatch(/not read to its end in 200 ms/);
    await closed(unread);
    const next = metrics.scrape()!;
    expect(await scrapeText({ ...metrics, scrape: () => next })).toContain('sloguard_series 345');
  });
});
