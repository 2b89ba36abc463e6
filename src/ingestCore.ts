import { type Logger, pino } from 'pino';
import type { Config } from './config/config.js';
import { CurrentDefinitions, loadDefinitionSet } from './definitionSet.js';
import { type DeclaredLabels, SeriesLimiter } from './ingest/cardinality.js';
import { logFormatNames } from './ingest/loadbalancer/formats.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { ServiceRoutes } from './ingest/routeTemplates.js';
import { type TimePolicy, timePolicy } from './ingest/timeRange.js';
import { BucketStore } from './store/buckets.js';
import { type Db, openDatabase } from './store/database.js';
import { StorageWatch } from './store/faults.js';

/**
 * The part of the composition root that writes observations: logger, definitions, the database, the buckets,
 * route templates, the series caps and the write pipeline. The service builds on it; `sloguard import` uses
 * it alone, so an import loads no HTTP server, scheduler or OpenTelemetry SDK (issue #23: start-up and RSS).
 */

/** Paths pino blanks in every line: tokens, webhook and database URLs (secrets; alerting logs target names only). */
const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'target.url',
  'notifications.targets.*.url',
  // The control plane's PostgreSQL URL may carry a password.
  'control.postgres.url',
  'control.postgres.password',
];

/** The process's one log, made before anything else: the core and fastify write through it. */
export function createLogger(level: string, stream?: { write(line: string): void }): Logger {
  const options = { level, redact: REDACTED };
  return stream ? pino(options, stream) : pino(options);
}

/** What observations are written through, from the definitions folder to the buckets. */
export interface IngestCore {
  config: Config;
  log: Logger;
  db: Db;
  definitions: CurrentDefinitions;
  /** Whether the database file is still the one opened (readiness, ingest, gate). */
  storage: StorageWatch;
  buckets: BucketStore;
  pipeline: IngestPipeline;
  /** The caps on series every batch passes before its commit. */
  cardinality: SeriesLimiter;
  routes: ServiceRoutes;
  /** The range every time that enters is held to, from the hour retention and the allowed clock skew. */
  times: TimePolicy;
  /** Commits what is queued, folds the WAL into the main file and closes the database. */
  close(): void;
}

/**
 * What the configuration and the SLOs name: services and sources it maps or selects, routes it templates or
 * selects. Series made only of these are never folded by the caps. The log formats are the sources of
 * pushes that name none.
 */
function declaredLabels(config: Config, definitions: CurrentDefinitions): DeclaredLabels {
  const services = new Set(Object.keys(config.routeTemplates));
  const sources = new Set(logFormatNames());
  for (const [name, mapping] of Object.entries(config.sources)) {
    sources.add(name);
    for (const service of [mapping.service ?? [], Object.values(mapping.hosts ?? {})].flat())
      services.add(service);
  }
  for (const collector of config.collectors) {
    sources.add(collector.source);
    if (collector.service) services.add(collector.service);
  }
  for (const target of config.scrapeTargets) {
    sources.add(target.source);
    for (const service of [target.service ?? [], Object.values(target.services)].flat())
      services.add(service);
  }
  return {
    service: (service) => services.has(service) || definitions.registry.selectedRoutes.has(service),
    // A span's source is its kind (server, client, ...), an OTLP metric's is fixed: sets of known size.
    source: (kind, source) => kind !== 'loadbalancer' || sources.has(source),
    operation: (service, operation) =>
      definitions.registry.selectedRoutes.get(service)?.has(operation) === true ||
      (config.routeTemplates[service]?.includes(operation) ?? false),
  };
}

/** Loads definitions (refusing invalid ones, as Prometheus refuses bad rules), opens the store, wires ingest. */
export function openIngestCore(config: Config, log: Logger): IngestCore {
  const loaded = loadDefinitionSet(config.definitionsPath);
  for (const warning of loaded.warnings) log.warn({ path: config.definitionsPath }, warning);
  const definitions = new CurrentDefinitions(loaded);
  const db = openDatabase(config.databasePath);
  const buckets = new BucketStore(db, config.minuteRetentionDays);
  const routes = new ServiceRoutes((service) => [
    ...(config.routeTemplates[service] ?? []),
    ...definitions.registry.routesOf(service),
  ]);
  const storage = new StorageWatch(config.databasePath);
  const times = timePolicy(config);
  const cardinality = new SeriesLimiter(
    config.cardinality,
    declaredLabels(config, definitions),
    buckets.listSeries(),
  );
  const pipeline = new IngestPipeline(
    buckets,
    definitions,
    config.maxQueuedObservations,
    times,
    cardinality,
    storage,
  );
  return {
    config,
    log,
    db,
    definitions,
    storage,
    buckets,
    pipeline,
    cardinality,
    routes,
    times,
    close() {
      pipeline.flush();
      // Fold the WAL into the main file so a stopped process leaves one self-contained file.
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
}
