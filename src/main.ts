import type { FastifyInstance } from 'fastify';
import cron from 'node-cron';
import type { Alerting } from './alert/alerting.js';
import { createAlerting } from './alert/index.js';
import type { Config } from './config/config.js';
import { buildApp } from './http/app.js';
import { startScrapers } from './ingest/scrape/index.js';
import { startTailers } from './ingest/tail/index.js';
import { Reloader } from './reload.js';
import { createSloguard, type Sloguard } from './sloguard.js';
import { lockDatabase } from './store/lock.js';
import type { SloguardMetrics } from './telemetry/metrics.js';
import { startTracing, tracingEndpoint } from './telemetry/tracing.js';

export interface RunningService {
  sloguard: Sloguard;
  url: string;
  /** Reads definitions and settings again (what SIGHUP and `POST /-/reload` do). */
  reloader: Reloader;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Reads sloguard.yaml and the environment again on reload; without it a reload reads the definitions only. */
  rereadConfig?: () => Config;
}

interface Stoppable {
  stop(): Promise<void>;
}

/** A listen that failed (port taken, address not on this host): the process cannot serve and must stop. */
export class ListenError extends Error {
  override name = 'ListenError';
}

async function listen(app: FastifyInstance, config: Config): Promise<void> {
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why =
      code === 'EADDRINUSE'
        ? 'the port is in use'
        : code === 'EADDRNOTAVAIL'
          ? 'no such address here'
          : message;
    throw new ListenError(`cannot listen on ${config.host}:${config.port}: ${why} (${code ?? 'error'})`);
  }
}

/**
 * Starts everything: lock the database → config, store, definitions → HTTP server bound → first evaluation →
 * schedules (evaluation tick, hourly retention; WAL checkpoints run on their own thread) and reload triggers.
 * Nothing is evaluated, sent or written before the lock is held and the port bound: a process that cannot
 * serve stops without touching the database. `close` stops taking requests, commits what is queued, closes
 * the database and releases the lock.
 */
/** Tailed lines refused (a time out of range, a bad line) are counted in /metrics as HTTP ones are. */
const rejectedTailLines = (metrics: SloguardMetrics) => (reason: string, lines: number) =>
  metrics.countRejected('loadbalancer', reason, lines);

export async function startService(config: Config, options: ServiceOptions = {}): Promise<RunningService> {
  const lock = lockDatabase(config.databasePath, 'sloguard serve');
  let sloguard: Sloguard | undefined;
  let app: FastifyInstance | undefined;
  // Log files and LB metrics are read once the service answers; a reload restarts them when their settings change.
  let tailers: Stoppable = { stop: async () => {} };
  let scrapers: Stoppable = { stop: async () => {} };
  let alerting: Alerting;
  let reloader: Reloader;
  try {
    sloguard = createSloguard(config);
    // The route calls the reloader made below, once the app's log and metrics exist; it answers after listen.
    app = await buildApp(sloguard, { reload: () => reloader.reload('http') });
    const service = sloguard;
    const log = app.log;
    const { metrics } = app;
    alerting = createAlerting(service, log, { registry: app.metrics.registry });
    reloader = new Reloader({
      sloguard: service,
      ...(options.rereadConfig && { rereadConfig: options.rereadConfig }),
      metrics: app.metrics.registry,
      log,
      async applied(changed) {
        alerting.reconfigure(service.openslo.notificationRoutes);
        if (changed.collectors) {
          await tailers.stop();
          tailers = await startTailers(service, log, rejectedTailLines(metrics));
        }
        if (changed.scrapeTargets) {
          await scrapers.stop();
          scrapers = startScrapers(service, log);
        }
        // New SLOs get a status, removed ones resolve their alerts, without waiting for the tick.
        await service.evaluator.tick();
      },
    });
    await listen(app, config);
  } catch (error) {
    await app?.close();
    await sloguard?.stopThreads();
    sloguard?.close();
    lock.release();
    throw error;
  }
  const service = sloguard;
  const server = app;
  const logError = (error: unknown) => server.log.error({ err: error }, 'scheduled job failed');
  // Gate decisions, deployments and freeze scopes past their retention or cap (docs/storage.md).
  const pruneGateState = () => {
    const removed = service.pruneGateState(Date.now());
    server.log.info({ removed }, 'gate state retention applied');
  };
  try {
    pruneGateState();
  } catch (error) {
    logError(error);
  }
  await service.evaluator.tick();
  alerting.start();
  service.cardinality.onOverflow(({ cap, refused, foldedInto, folded }) =>
    server.log.warn(
      { cap, service: refused.service, refused, foldedInto, folded },
      'series cap reached: new series are counted under an overflow series (docs/security.md#cardinality)',
    ),
  );
  service.evaluator.start(logError);
  const maintenance = cron.schedule(
    '17 * * * *',
    () => {
      try {
        const removed = service.buckets.applyRetention(Date.now(), config.hourRetentionDays);
        server.log.info({ removed }, 'retention applied');
        pruneGateState();
      } catch (error) {
        logError(error);
      }
    },
    { noOverlap: true, name: 'retention' },
  );
  tailers = await startTailers(service, server.log, rejectedTailLines(server.metrics));
  scrapers = startScrapers(service, server.log);
  // SIGHUP reloads, as for Prometheus; it never stops the process.
  const onHangup = () => void reloader.reload('SIGHUP');
  process.on('SIGHUP', onHangup);
  if (config.watchDefinitions) reloader.watch(config.definitionsPath);

  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  server.log.info(
    { slos: service.registry.definitions.length },
    `sloguard listening on http://${host}:${port}`,
  );
  // Started once the address is known, so `self` can name it.
  const tracing =
    config.tracingUrl === undefined
      ? undefined
      : startTracing(tracingEndpoint(config.tracingUrl, `http://${host}:${port}`), config.tracingToken);
  return {
    sloguard: service,
    url: `http://${host}:${port}`,
    reloader,
    async close() {
      process.removeListener('SIGHUP', onHangup);
      await reloader.stop();
      maintenance.stop();
      await alerting.stop();
      // While the server still answers: with `self`, the last spans go to it.
      await tracing?.shutdown();
      await tailers.stop();
      await scrapers.stop();
      await server.close();
      await service.stopThreads();
      service.close();
      lock.release();
    },
  };
}
