import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { loadConfig } from '../config/config.js';
import { startService } from '../service.js';
import { missingNodeFlags } from './nodeFlags.js';

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
 * `sloguard serve`: runs the service until SIGTERM/SIGINT. Besides the JSON log on stdout, one line on
 * stderr tells a person where the dashboard is.
 */
export async function runServe(err: (text: string) => void): Promise<void> {
  const missing = missingNodeFlags(process.execArgv);
  if (missing.length > 0) {
    // Started as `node main.js serve` without them: set at run time they still reach the worker threads.
    setFlagsFromString(missing.join(' '));
    err(
      `sloguard: node started without ${missing.join(' ')}, which the main thread gets only from node's command line: run \`sloguard serve\` or \`npm start\` (docs/operations.md#node-flags)`,
    );
  }
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
