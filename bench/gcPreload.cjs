/**
 * Preloaded (`node -r`) into a `sloguard serve` under bench/burstTrace.ts, in every isolate (node runs `-r` in
 * worker threads too): each GC as a JSON line [process.hrtime ms at its start, duration ms, kind, threadId] in
 * GC_OUT, written every 500 ms, and each worker thread's OS thread id with the keys of its workerData in
 * GC_OUT.threads, so the trace can name the threads it reads in /proc.
 */
const { appendFileSync, readlinkSync } = require('node:fs');
const { PerformanceObserver, performance, constants } = require('node:perf_hooks');
const { isMainThread, threadId, workerData } = require('node:worker_threads');

const out = process.env.GC_OUT;
if (out) {
  if (!isMainThread) {
    const tid = readlinkSync('/proc/thread-self').split('/').pop();
    const keys = workerData && typeof workerData === 'object' ? Object.keys(workerData).sort().join(',') : '';
    appendFileSync(`${out}.threads`, `${JSON.stringify([tid, threadId, keys])}\n`);
  }
  // performance.now() plus this is process.hrtime in ms, the clock the trace and /proc share.
  const toHrtime = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  let pending = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      pending.push([
        entry.startTime + toHrtime,
        entry.duration,
        kinds[entry.detail.kind] ?? 'other',
        threadId,
      ]);
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    if (pending.length === 0) return;
    appendFileSync(out, `${pending.map((gc) => JSON.stringify(gc)).join('\n')}\n`);
    pending = [];
  }, 500).unref();
}
