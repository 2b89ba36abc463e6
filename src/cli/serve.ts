import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { loadConfig } from '../config/config.js';
import { startService } from '../service.js';

/** The package's version, from the package.json two folders up from both src/cli and dist/cli. */
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * Only SIGTERM and SIGINT stop the service gracefully. Fatal signals (SIGILL, SIGSEGV, SIGABRT, SIGBUS, SIGFPE,
 * SIGTRAP: V8 raises SIGILL on a fatal error and retries it forever when a handler returns) and SIGQUIT keep
 * their default action, so the process dies and its supervisor sees it; SIGHUP and SIGUSR2 are not a stop.
 */
const GRACEFUL_STOP: Record<closeWithGrace.Signals, boolean> = {
  SIGTERM: true,
  SIGINT: true,
  SIGHUP: false,
  SIGQUIT: false,
  SIGILL: false,
  SIGTRAP: false,
  SIGABRT: false,
  SIGBUS: false,
  SIGFPE: false,
  SIGSEGV: false,
  SIGUSR2: false,
};
const UNGRACEFUL_SIGNALS = (Object.keys(GRACEFUL_STOP) as closeWithGrace.Signals[]).filter(
  (signal) => !GRACEFUL_STOP[signal],
);

/**
 * V8's memory reducer runs a full, heap-shrinking GC in each isolate some seconds after the allocation rate drops,
 * and 100 s after the last full GC whatever the load: an unplanned stall of the event loop. Measured (issue #23,
 * twelfth session, docs/benchmarks.md): in four traced gate benches it hit the main isolate at ~105 s, the first
 * gate turn after the span load (38–108 marking steps on the loop, the longest 6.9 ms, then a 4–20 ms pause).
 * Its start delay (8 s by default) is read when it schedules itself, and `--no-memory-reducer` set at run time
 * stops it only in isolates created later. Set before the service starts, so the parsing and checkpoint threads
 * get it; the main isolate was still seen running two memory-reducing collections right after a span burst in a
 * traced run (docs/benchmarks.md, twelfth session), so there it is fewer, not none. The cost: after a burst the
 * heap keeps its committed size until an ordinary GC needs to shrink it.
 */
const MEMORY_REDUCER_DELAY = '--gc-memory-reducer-start-delay-ms=3600000';

/**
 * `sloguard serve`: runs the service until SIGTERM/SIGINT. Besides the JSON log on stdout, one line on
 * stderr tells a person where the dashboard is.
 */
export async function runServe(err: (text: string) => void): Promise<void> {
  setFlagsFromString(MEMORY_REDUCER_DELAY);
  const config = loadConfig();
  const service = await startService(config, { rereadConfig: () => loadConfig() });
  const slos = service.sloguard.registry.definitions.length;
  err(`sloguard ${VERSION} serving ${service.url}/ (dashboard), ${slos} SLOs from ${config.definitionsPath}`);
  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (their batches commit), close the store.
  // An uncaught error closes the same way, then exits 1 so a supervisor restarts the service.
  closeWithGrace({ delay: 10_000, skip: UNGRACEFUL_SIGNALS }, async ({ err: error }) => {
    if (error) err(`sloguard: stopping after an unexpected error: ${error.stack ?? error.message}`);
    await service.close();
  });
}
