/**
 * `GET /metrics` at many SLOs (issue #23): prom-client's one-go `registry.metrics()` against sloguard's sliced
 * exposition, over the same registry of SCRAPE_SLOS synthetic statuses (default 10,000), alternating per round:
 * the scrape's wall time, the longest event-loop hold during it, and the RSS and heap it leaves grown (after a
 * GC when --expose-gc is given). `node --expose-gc --import tsx bench/scrape.bench.ts`
 */
import { Registry } from 'prom-client';
import { createMetrics } from '../src/telemetry/metrics.js';
import { measureScrape, meteredParts, scrapeText } from '../test/helpers/scrapeFixtures.js';
import { envInt, figure } from './method.js';

const slos = envInt('SCRAPE_SLOS', 10_000);
const rounds = envInt('SCRAPE_ROUNDS', 5);
const metrics = createMetrics(meteredParts(slos));
const paths: Record<string, () => Promise<string>> = {
  'registry.metrics()': () => metrics.registry.metrics(),
  sliced: () => scrapeText(metrics),
};
const gc = (globalThis as { gc?: () => void }).gc;
const results = new Map(
  Object.keys(paths).map((p) => [
    p,
    { wall: [] as number[], hold: [] as number[], rss: [] as number[], heap: [] as number[] },
  ]),
);
let size = 0;
for (let round = 0; round < rounds; round++) {
  for (const [name, scrape] of Object.entries(paths)) {
    gc?.();
    const before = process.memoryUsage();
    const run = await measureScrape(scrape);
    size = run.text.length;
    const after = process.memoryUsage();
    const r = results.get(name)!;
    r.wall.push(run.wallMs);
    r.hold.push(run.longestHoldMs);
    r.rss.push((after.rss - before.rss) / 2 ** 20);
    r.heap.push((after.heapUsed - before.heapUsed) / 2 ** 20);
  }
}
process.stdout.write(
  `${slos} SLOs, ${(size / 2 ** 20).toFixed(1)} MB of text, ${Registry.PROMETHEUS_CONTENT_TYPE}\n`,
);
for (const [name, r] of results) {
  figure(`${name}: scrape wall`, r.wall, 'ms');
  figure(`${name}: longest event-loop hold`, r.hold, 'ms');
  figure(`${name}: RSS growth per scrape`, r.rss, 'MB');
  figure(`${name}: heap growth per scrape`, r.heap, 'MB');
}
