import type { Config } from './config/config.js';
import { loadDefinitions } from './definitions/load.js';
import type { OpenSloObjects } from './definitions/openslo/load.js';
import { SloRegistry } from './definitions/registry.js';
import type { DefinitionError } from './definitions/yamlSource.js';
import { SloEvaluator } from './evaluate/scheduler.js';
import { createGate, type GateParts } from './gate/index.js';
import { GatePolicies } from './gate/policy.js';
import { type DeclaredLabels, SeriesLimiter } from './ingest/cardinality.js';
import { logFormatNames } from './ingest/loadbalancer/formats.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { ServiceRoutes } from './ingest/routes.js';
import { type TimePolicy, timePolicy } from './ingest/timeRange.js';
import { SpanDecoder } from './ingest/zipkin/decoder.js';
import { PrometheusCounts } from './prometheus/source.js';
import { BucketStore } from './store/buckets.js';
import { WalCheckpointer } from './store/checkpointer.js';
import { CorrectionStore } from './store/corrections.js';
import { type Db, openDatabase } from './store/database.js';
import { StatusStore } from './store/statuses.js';

export class InvalidDefinitionsError extends Error {
  constructor(readonly errors: DefinitionError[]) {
    super(`invalid SLO definitions:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.name = 'InvalidDefinitionsError';
  }
}

/** The parts of a running sloguard, wired once from the config; routes and schedulers use them. */
export interface Sloguard extends GateParts {
  config: Config;
  db: Db;
  registry: SloRegistry;
  buckets: BucketStore;
  pipeline: IngestPipeline;
  /** The caps on series every batch passes before its commit. */
  cardinality: SeriesLimiter;
  routes: ServiceRoutes;
  /** The range every time that enters is held to, from the hour retention and the allowed clock skew. */
  times: TimePolicy;
  /** Parses Zipkin span batches, big ones on worker threads. */
  spans: SpanDecoder;
  evaluator: SloEvaluator;
  /** Corrections (planned downtime, after-the-fact fixes) from the files and the API. */
  corrections: CorrectionStore;
  /** The OpenSLO objects read, references resolved: alerting routes by their AlertPolicies. */
  openslo: OpenSloObjects;
  /** Stops the worker threads (span parsing, WAL checkpoints); call before `close`. */
  stopThreads(): Promise<void>;
  close(): void;
}

/**
 * What the configuration and the SLOs name: services and sources it maps or selects, routes it templates or
 * selects. Series made only of these are never folded by the caps. The log formats are the sources of
 * pushes that name none.
 */
function declaredLabels(config: Config, registry: () => SloRegistry): DeclaredLabels {
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
    service: (service) => services.has(service) || registry().selectedRoutes.has(service),
    // A span's source is its kind (server, client, ...): a fixed set.
    source: (kind, source) => kind === 'traces' || sources.has(source),
    operation: (service, operation) =>
      registry().selectedRoutes.get(service)?.has(operation) === true ||
      (config.routeTemplates[service]?.includes(operation) ?? false),
  };
}

/** Loads definitions (refusing invalid ones, as Prometheus refuses bad rules), opens the store, wires the rest. */
export function createSloguard(config: Config): Sloguard {
  const loaded = loadDefinitions([config.definitionsPath]);
  if (loaded.errors.length > 0) throw new InvalidDefinitionsError(loaded.errors);
  const registry = new SloRegistry(loaded.definitions);
  const db = openDatabase(config.databasePath);
  const checkpointer = WalCheckpointer.start(db, config.databasePath, (error) =>
    process.emitWarning(
      `WAL checkpoint thread failed; commits checkpoint every 1,000 pages: ${String(error)}`,
    ),
  );
  const buckets = new BucketStore(db, config.minuteRetentionDays);
  const evaluator = new SloEvaluator(buckets, new StatusStore(db), registry, config.evaluationIntervalMs);
  evaluator.addSource(new PrometheusCounts());
  const corrections = new CorrectionStore(db, loaded.corrections);
  evaluator.useCorrections(() => corrections.all());
  const routes = new ServiceRoutes((service) => [
    ...(config.routeTemplates[service] ?? []),
    ...registry.routesOf(service),
  ]);
  const services = new Set([...registry.byService.keys(), ...Object.keys(config.routeTemplates)]);
  const spans = new SpanDecoder(routes, {
    templates: Object.fromEntries([...services].map((service) => [service, routes.templatesOf(service)])),
    thresholdsUs: registry.thresholdsUs,
    countingRules: registry.countingRules,
  });
  const times = timePolicy(config);
  const cardinality = new SeriesLimiter(
    config.cardinality,
    declaredLabels(config, () => registry),
    buckets.listSeries(),
  );
  const pipeline = new IngestPipeline(
    buckets,
    () => registry,
    config.maxQueuedObservations,
    times,
    cardinality,
  );
  const policies = new GatePolicies(loaded.policies);
  const gate = createGate({ db, buckets, evaluator, registry: () => registry, policies: () => policies });
  return {
    config,
    db,
    registry,
    buckets,
    pipeline,
    cardinality,
    routes,
    times,
    spans,
    evaluator,
    corrections,
    openslo: loaded.openslo,
    ...gate,
    async stopThreads() {
      await Promise.all([spans.close(), checkpointer?.stop()]);
    },
    close() {
      evaluator.stop();
      pipeline.flush();
      gate.decisions.flush();
      // Fold the WAL into the main file so a stopped service leaves one self-contained file.
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
}
