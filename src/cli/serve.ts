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
 * V8's memory reducer starts a full, heap-shrinking GC in every isolate some seconds after the allocation rate
 * drops: for the service, when a burst of spans ends, just as gate requests may arrive. Measured (issue #23,
 * twelfth session, docs/benchmarks.md): in two bench runs the main isolate's only mark-compact after start-up
 * was this one, in the first second of gate load after the span load (79 marking steps on the event loop, the
 * longest 6.9 ms; heap 71 → 40 MB committed), where the gate's loop held 10–14 ms of CPU at a time. Without it
 * the heap stays at its working size after a burst and the ordinary GCs reclaim it as they need to. Set before
 * the service starts, so the parsing and checkpoint threads' isolates run without it too.
 */
const NO_MEMORY_REDUCER = '--no-memory-reducer';

/**
 * `sloguard serve`: runs the service until SIGTERM/SIGINT. Besides the JSON log on stdout, one line on
 * stderr tells a person where the dashboard is.
 */
export async function runServe(err: (text: string) => void): Promise<void> {
  setFlagsFromString(NO_MEMORY_REDUCER);
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
