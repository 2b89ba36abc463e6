import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection left live before it collects
 * again, in percent. Left to itself on a machine with gigabytes free V8 lets it grow up to 4×: at 10,000 SLOs
 * the service's live heap of ~130 MB grew to ~300 MB between full collections (each tick's statuses and read
 * cache churn, each scrape's text), most of the RSS above the 400 MB of issue #23. At 50% a full collection
 * comes about once a tick, marking concurrently with a pause of a few ms (docs/benchmarks.md, scale10k2).
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Sets V8's heap growth for the service's process, unless the operator chose one (`--heap-growing-percent` in
 * the node options): the flag is read at each full collection, so setting it after start takes effect at the
 * next one.
 */
export function limitHeapGrowth(
  nodeOptions = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`,
): boolean {
  if (/--heap[-_]growing[-_]percent/.test(nodeOptions)) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
