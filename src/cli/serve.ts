import { createRequire } from 'node:module';
import closeWithGrace from 'close-with-grace';
import { loadConfig } from '../config/config.js';
import { startService } from '../main.js';

/** The package's version, from the package.json two folders up from both src/cli and dist/cli. */
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * `sloguard serve`: runs the service until SIGTERM/SIGINT. Besides the JSON log on stdout, one line on
 * stderr tells a person where the dashboard is.
 */
export async function runServe(err: (text: string) => void): Promise<void> {
  const config = loadConfig();
  const service = await startService(config);
  const slos = service.sloguard.registry.definitions.length;
  err(`sloguard ${VERSION} serving ${service.url}/ (dashboard), ${slos} SLOs from ${config.definitionsPath}`);
  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (their batches commit), close the store.
  closeWithGrace({ delay: 10_000 }, async ({ err: error }) => {
    if (error) err(`sloguard: stopping after an unexpected error: ${error.stack ?? error.message}`);
    await service.close();
  });
}
