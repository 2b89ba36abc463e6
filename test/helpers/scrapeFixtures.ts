import { text } from 'node:stream/consumers';
import type { SloStatus } from '../../src/model/status.js';
import type { MeteredParts, SloguardMetrics } from '../../src/telemetry/metrics.js';

/** The burn-rate windows a status reports: the defaults and the tier windows. */
const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

/**
 * The parts `createMetrics` reads, around `count` synthetic SLO statuses (as after an evaluation at that
 * scale): every per-SLO family has a series per SLO, the burn rates one per SLO and window. Names carry
 * characters the text format escapes, so slicing must keep prom-client's escaping.
 */
export function meteredParts(count: number): MeteredParts {
  const statuses = Array.from(
    { length: count },
    (_, i) =>
      ({
        name: `slo-${i}${i % 97 === 0 ? '-"quoted"\\path' : ''}`,
        service: `service-${i % 200}`,
        objective: 0.999,
        sli: i % 11 === 0 ? null : 1 - (i % 13) / 10_000,
        budget: { remainingRatio: 1 - (i % 17) / 10 },
        firing: i % 5 === 0 ? 'page' : null,
        burnRates: Object.fromEntries(
          WINDOWS.map((w, k) => [w, k === 6 && i % 3 === 0 ? null : (i % 7) * k]),
        ),
      }) as unknown as SloStatus,
  );
  return {
    evaluator: { current: () => statuses, isStale: (s: SloStatus) => s.sli === null, onEvaluated: () => {} },
    gate: { freezes: () => [{ service: 'service-3', frozen: true }], on: () => {} },
    pipeline: { queuedObservations: 12 },
    cardinality: { seriesCount: 345, overflowed: new Map([['series', 2]]) },
  } as unknown as MeteredParts;
}

/**
 * Counts the per-SLO families a scrape of `parts` has started building: each reads the current statuses once.
 * Returns the count so far.
 */
export function countFamiliesStarted(parts: MeteredParts): () => number {
  let started = 0;
  const current = parts.evaluator.current.bind(parts.evaluator);
  parts.evaluator.current = () => {
    started++;
    return current();
  };
  return () => started;
}

/** One scrape's whole text, read from its stream as a client would. */
export async function scrapeText(metrics: SloguardMetrics): Promise<string> {
  const stream = metrics.scrape();
  if (stream === undefined) throw new Error('the scrape was refused: too many in flight');
  return text(stream);
}

export interface ScrapeRun {
  text: string;
  /** The scrape from start to text, ms. */
  wallMs: number;
  /** The longest the event loop went without turning during it, ms: what a gate request would wait. */
  longestHoldMs: number;
}

/** Times one scrape, with a probe that notes every turn of the event loop (a chained setImmediate). */
export async function measureScrape(scrape: () => Promise<string>): Promise<ScrapeRun> {
  let last = performance.now();
  let longestHoldMs = 0;
  let probing = true;
  const probe = () => {
    const now = performance.now();
    longestHoldMs = Math.max(longestHoldMs, now - last);
    last = now;
    if (probing) setImmediate(probe);
  };
  setImmediate(probe);
  const start = performance.now();
  const text = await scrape();
  const wallMs = performance.now() - start;
  probing = false;
  probe();
  return { text, wallMs, longestHoldMs };
}
