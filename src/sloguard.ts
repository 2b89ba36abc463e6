import { type Config, type ReloadableSettings, reloadableSettings } from './config/config.js';
import { loadDefinitions } from './definitions/load.js';
import type { OpenSloObjects } from './definitions/openslo/objects.js';
import { SloRegistry } from './definitions/registry.js';
import type { DefinitionError } from './definitions/yamlSource.js';
import { createGate, type GateParts } from './gate/index.js';
import { GatePolicies } from './gate/policy.js';
import { type DeclaredLabels, SeriesLimiter } from './ingest/cardinality.js';
import { logFormatNames } from './ingest/loadbalancer/formats.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { ServiceRoutes } from './ingest/routes.js';
import { type TimePolicy, timePolicy } from './ingest/timeRange.js';
import { SpanDecoder } from './ingest/zipkin/decoder.js';
import type { Correction } from './model/correction.js';
import { SloEvaluator } from './schedule/scheduler.js';
import { PrometheusCounts } from './sources/promql/source.js';
import { StoreCounts } from './sources/store/counts.js';
import { BucketStore } from './store/buckets.js';
import { WalCheckpointer } from './store/checkpointer.js';
import { CorrectionStore } from './store/corrections.js';
import { type Db, openDatabase } from './store/database.js';
import { StorageWatch } from './store/faults.js';
import { StatusStore } from './store/statuses.js';

export class InvalidDefinitionsError extends Error {
  constructor(readonly errors: DefinitionError[]) {
    super(`invalid SLO definitions:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.name = 'InvalidDefinitionsError';
  }
}

/** What the definitions folder holds, read and checked as one set: a reload replaces it whole or not at all. */
export interface DefinitionSet {
  registry: SloRegistry;
  policies: GatePolicies;
  /** The OpenSLO objects read, references resolved: alerting routes by their AlertPolicies. */
  openslo: OpenSloObjects;
  /** `kind: Correction` documents. */
  corrections: Correction[];
}

/** Reads the definitions folder; throws InvalidDefinitionsError (every problem, with file:line:column). */
export function loadDefinitionSet(path: string): DefinitionSet {
  const loaded = loadDefinitions([path]);
  if (loaded.errors.length > 0) throw new InvalidDefinitionsError(loaded.errors);
  // Files skipped (not regular files) are reported and the rest loads.
  for (const warning of loaded.warnings) process.emitWarning(warning.message);
  return {
    registry: new SloRegistry(loaded.definitions),
    policies: new GatePolicies(loaded.policies),
    openslo: loaded.openslo,
    corrections: loaded.corrections,
  };
}

/**
 * The parts of a running sloguard, wired once from the config; routes and schedulers use them. `registry`,
 * `policies` and `openslo` are the current definition set: read them at use, never keep them, since a reload
 * replaces them.
 */
export interface Sloguard extends GateParts {
  /** One object for the process's life; a reload replaces its reloadable settings in place. */
  config: Config;
  db: Db;
  /** Whether the database file is still the one opened (readiness, ingest, gate). */
  storage: StorageWatch;
  readonly registry: SloRegistry;
  readonly policies: GatePolicies;
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
  readonly openslo: OpenSloObjects;
  /**
   * Swaps in a definition set and settings already checked, at once (before it returns): route templates,
   * span parsing and latency thresholds follow; the next evaluation uses the new SLOs. The promise resolves
   * once the span threads of the old set have finished their batches.
   */
  replace(definitions: DefinitionSet, settings: ReloadableSettings): Promise<void>;
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
  let current = loadDefinitionSet(config.definitionsPath);
  const db = openDatabase(config.databasePath);
  const checkpointer = WalCheckpointer.start(db, config.databasePath, (error) =>
    process.emitWarning(
      `WAL checkpoint thread failed; commits checkpoint every 1,000 pages: ${String(error)}`,
    ),
  );
  const registry = () => current.registry;
  const buckets = new BucketStore(db, config.minuteRetentionDays);
  const evaluator = new SloEvaluator(
    new StoreCounts(buckets),
    new StatusStore(db),
    registry,
    config.evaluationIntervalMs,
  );
  evaluator.addSource(new PrometheusCounts());
  const corrections = new CorrectionStore(db, () => current.corrections);
  evaluator.useCorrections(() => corrections.all());
  const routes = new ServiceRoutes((service) => [
    ...(config.routeTemplates[service] ?? []),
    ...current.registry.routesOf(service),
  ]);
  const spanSetup = () => {
    const services = new Set([...current.registry.byService.keys(), ...Object.keys(config.routeTemplates)]);
    return {
      templates: Object.fromEntries([...services].map((service) => [service, routes.templatesOf(service)])),
      thresholdsUs: current.registry.thresholdsUs,
      countingRules: current.registry.countingRules,
    };
  };
  const spans = new SpanDecoder(routes, spanSetup());
  const storage = new StorageWatch(config.databasePath);
  const times = timePolicy(config);
  const cardinality = new SeriesLimiter(
    config.cardinality,
    declaredLabels(config, registry),
    buckets.listSeries(),
  );
  const pipeline = new IngestPipeline(
    buckets,
    registry,
    config.maxQueuedObservations,
    times,
    cardinality,
    storage,
  );
  const gate = createGate({
    db,
    buckets,
    evaluator,
    storage,
    retention: config.gateRetention,
    registry,
    policies: () => current.policies,
  });
  return {
    config,
    db,
    storage,
    get registry() {
      return current.registry;
    },
    get policies() {
      return current.policies;
    },
    get openslo() {
      return current.openslo;
    },
    buckets,
    pipeline,
    cardinality,
    routes,
    times,
    spans,
    evaluator,
    corrections,
    ...gate,
    replace(definitions, settings) {
      current = definitions;
      Object.assign(config, reloadableSettings(settings));
      routes.reset();
      return spans.reconfigure(spanSetup());
    },
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
