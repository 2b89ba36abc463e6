/**
 * The V8 flags `sloguard serve` runs with, on node's own command line: node refuses them in NODE_OPTIONS, and set
 * at run time (v8.setFlagsFromString) they reach only the isolates created later, not the main one that serves
 * the gate. They get there from the bin's shebang (`#!/usr/bin/env -S node ...` in main.ts: the installed
 * `sloguard` command, the container image, the systemd unit and the Kubernetes manifests run it), `npm start`
 * and the test and bench helpers; test/unit/node-flags.test.ts keeps those in step with this list.
 *
 * `--gc-memory-reducer-start-delay-ms`: V8's memory reducer runs a full, heap-shrinking GC in each isolate some
 * seconds (8 by default) after the allocation rate drops, and again whatever the load once its watchdog finds
 * no full GC for 100 s: an unplanned stall of the event loop. In traced gate benches (issue #23, twelfth
 * session, docs/benchmarks.md) it hit the main isolate on the first gate requests after a span burst, 38-108
 * marking steps on the loop (the longest 6.9 ms), then a 4-20 ms pause. An hour's delay keeps it out of a
 * running service; the cost: after a burst the heap keeps its committed size until an ordinary GC shrinks it.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--gc-memory-reducer-start-delay-ms=3600000'];

/** The serve flags node was not started with (`execArgv`: node's own options, before the script). */
export function missingNodeFlags(execArgv: readonly string[]): string[] {
  return SERVE_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
