/**
 * The paced client's own process (bench/paced.ts `PacedClientProcess`): it says it is ready, then for each order
 * paces every URL it is given at once and answers with their results and the collections its own heap needed
 * meanwhile, until its bench disconnects.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { type ClientGc, type PacedOrder, type PacedRun, pacedLoad } from './paced.js';

function gcOf(entries: readonly PerformanceEntry[]): ClientGc {
  const pausesMs = entries.map((entry) => entry.duration);
  return {
    count: pausesMs.length,
    majors: entries.filter(
      // Node 20 gives a gc entry's kind in `detail`, which its types do not declare.
      (entry) =>
        (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR,
    ).length,
    longestMs: Math.max(0, ...pausesMs),
    totalMs: pausesMs.reduce((a, b) => a + b, 0),
  };
}

process.on('message', async (order: PacedOrder) => {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const results = await Promise.all(
    order.urls.map((url) => pacedLoad(url, order.rate, order.seconds, order.connections)),
  );
  entries.push(...observer.takeRecords());
  observer.disconnect();
  process.send!({ results, clientGc: gcOf(entries) } satisfies PacedRun);
});
// Its bench done (or gone), nothing more will come.
process.once('disconnect', () => process.exit(0));
process.send!('ready');
