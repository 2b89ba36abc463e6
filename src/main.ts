import cron from 'node-cron';
import { createAlerting } from './alert/index.js';
import type { Config } from './config/config.js';
import { buildApp } from './http/app.js';
import { startScrapers } from './ingest/scrape/index.js';
import { startTailers } from './ingest/tail/index.js';
import { createSloguard, type Sloguard } from './sloguard.js';
import { startTracing, tracingEndpoint } from './telemetry/tracing.js';

export interface RunningService {
  sloguard: Sloguard;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts everything: config → store → definitions → first evaluation → HTTP server → schedules
 * (evaluation tick, hourly retention; WAL checkpoints run on their own thread). `close` stops taking requests, commits what is
 * queued and closes the database.
 */
export async function startService(config: Config): Promise<RunningService> {
  const sloguard = createSloguard(config);
  const app = await buildApp(sloguard);
  const alerting = createAlerting(sloguard, app.log, { registry: app.metrics.registry });
  await sloguard.evaluator.tick();
  alerting.start();
  sloguard.cardinality.onOverflow(({ cap, refused, foldedInto, folded }) =>
    app.log.warn(
      { cap, service: refused.service, refused, foldedInto, folded },
      'series cap reached: new series are counted under an overflow series (docs/security.md#cardinality)',
    ),
  );
  const logError = (error: unknown) => app.log.error({ err: error }, 'scheduled job failed');
  sloguard.evaluator.start(logError);
  const maintenance = cron.schedule(
    '17 * * * *',
    () => {
      try {
        const removed = sloguard.buckets.applyRetention(Date.now(), config.hourRetentionDays);
        app.log.info({ removed }, 'retention applied');
      } catch (error) {
        logError(error);
      }
    },
    { noOverlap: true, name: 'retention' },
  );
  await app.listen({ host: config.host, port: config.port });
  // Log files and LB metrics are read once the service answers; they catch up in the background.
  const tailers = await startTailers(sloguard, app.log);
  const scrapers = startScrapers(sloguard, app.log);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  app.log.info(
    { slos: sloguard.registry.definitions.length },
    `sloguard listening on http://${host}:${port}`,
  );
  // Started once the address is known, so `self` can name it.
  const tracing =
    config.tracingUrl === undefined
      ? undefined
      : startTracing(tracingEndpoint(config.tracingUrl, `http://${host}:${port}`), config.tracingToken);
  return {
    sloguard,
    url: `http://${host}:${port}`,
    async close() {
      maintenance.stop();
      await alerting.stop();
      // While the server still answers: with `self`, the last spans go to it.
      await tracing?.shutdown();
      await tailers.stop();
      await scrapers.stop();
      await app.close();
      await sloguard.stopThreads();
      sloguard.close();
    },
  };
}
