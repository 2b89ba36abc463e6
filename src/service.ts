import type { FastifyInstance } from 'fastify';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Alerting } from './alert/alerting.js';
import { IncidentHistory } from './alert/history.js';
import type { AlertLog, DispatcherOptions } from './alert/outbox.js';
import { replicatedAlerting } from './alert/replicated.js';
import { type Config, ConfigError, type ReloadableSettings, reloadableSettings } from './config/config.js';
import { SharedCorrections } from './control/corrections.js';
import { ControlDatabase } from './control/database.js';
import { SharedDecisions } from './control/decisions.js';
import { DeploymentSharing, MAX_UNSHARED_DEPLOYMENTS, SharedDeployments } from './control/deployments.js';
import { SharedFreezes } from './control/freezes.js';
import { pruneSharedIncidents, SharedIncidents } from './control/incidents.js';
import { EvaluatorLease } from './control/lease.js';
import { SharedOverrides } from './control/overrides.js';
import { ReplicaCopies } from './control/replicaCopies.js';
import { ReplicaEvaluator, SharedStatuses } from './control/statuses.js';
import type { CurrentDefinitions, DefinitionSet } from './definitionSet.js';
import type { SloRegistry } from './definitions/registry.js';
import { gateAnswer } from './gate/answer.js';
import { Deployments } from './gate/deployments.js';
import { GateEvaluations } from './gate/evaluations.js';
import { type DecisionTrail, DeployGate, type SharedGateState } from './gate/gate.js';
import { GateOverrides } from './gate/overrides.js';
import { type AppOptions, buildApp } from './http/app.js';
import { serveAsCollector } from './http/collectorRole.js';
import { listenForOtlp, type OtlpListener } from './http/otlpListener.js';
import type { BreakdownParts } from './http/plugins/breakdown.js';
import type { TimeseriesParts } from './http/plugins/timeseries.js';
import type { SeriesLimiter } from './ingest/cardinality.js';
import { LOG_FORMATS } from './ingest/loadbalancer/formats.js';
import type { IngestPipeline } from './ingest/pipeline.js';
import type { ServiceRoutes } from './ingest/routeTemplates.js';
import { LbScraper } from './ingest/scrape/scraper.js';
import { LogTailer } from './ingest/tail/tailer.js';
import type { TimePolicy } from './ingest/timeRange.js';
import { SpanDecoder } from './ingest/zipkin/decoder.js';
import { createLogger, openIngestCore } from './ingestCore.js';
import { Reloader } from './reload.js';
import { RemoteWriteCollector } from './remote/collector.js';
import { collectorPipeline } from './remote/pipeline.js';
import { collectorThresholdsUs, declaredThresholds } from './remote/thresholds.js';
import { RepeatingJob } from './repeatingJob.js';
import { SloEvaluator } from './schedule/scheduler.js';
import {
  engineBreakdownReader,
  engineChartQueries,
  enginePlan,
  promQlPeriodCounts,
} from './sources/engine/plan.js';
import { eitherPlan, handWrittenPromQl, PrometheusCounts } from './sources/promql/source.js';
import { StoreCounts } from './sources/store/counts.js';
import { AlertBurnStore, AlertEpisodeStore } from './store/alertEpisodes.js';
import type { BucketStore } from './store/buckets.js';
import { WalCheckpointer } from './store/checkpointer.js';
import { CorrectionStore, type CorrectionWrites } from './store/corrections.js';
import type { Db } from './store/database.js';
import { DeploymentStore } from './store/deployments.js';
import type { StorageWatch } from './store/faults.js';
import { GateDecisionStore } from './store/gateDecisions.js';
import { GateEvaluationStore } from './store/gateEvaluations.js';
import { GateFreezeStore } from './store/gateFreezes.js';
import { GateOverrideStore } from './store/gateOverrides.js';
import { ImportedFileStore } from './store/importedFiles.js';
import { IncidentStore } from './store/incidents.js';
import { lockDatabase } from './store/lock.js';
import { OutboxStore } from './store/outbox.js';
import { ScrapeCounterStore } from './store/scrapeCounters.js';
import { SeriesBreakdownStore } from './store/seriesBreakdown.js';
import { StatusStore } from './store/statuses.js';
import { TailOffsetStore } from './store/tailOffsets.js';
import { TimelineStore } from './store/timeline.js';
import { UnsharedDeployments } from './store/unsharedDeployments.js';
import { registerIncidentGauges } from './telemetry/incidentMetrics.js';
import { createMetrics, notificationCounter, type SloguardMetrics } from './telemetry/metrics.js';
import { startTracing, type Tracing, tracingEndpoint } from './telemetry/tracing.js';

/**
 * The composition root: the logger first, then the store's tables (each opened once), the definition set, the
 * services over them, the HTTP app (each plugin handed what it uses) and the background jobs, started in order
 * once the port is bound and stopped in reverse.
 */

/** Every table class, each built once over the one connection. */
export interface Stores {
  buckets: BucketStore;
  statuses: StatusStore;
  corrections: CorrectionStore;
  decisions: GateDecisionStore;
  evaluations: GateEvaluationStore;
  freezes: GateFreezeStore;
  overrides: GateOverrideStore;
  deployments: DeploymentStore;
  /** On replicas: the deployments stored here that PostgreSQL has not taken yet. */
  unsharedDeployments: UnsharedDeployments;
  alertEpisodes: AlertEpisodeStore;
  alertBurns: AlertBurnStore;
  incidents: IncidentStore;
  outbox: OutboxStore;
  timeline: TimelineStore;
  seriesBreakdown: SeriesBreakdownStore;
  tailOffsets: TailOffsetStore;
  scrapeCounters: ScrapeCounterStore;
  importedFiles: ImportedFileStore;
}

function openStores(db: Db, config: Config, definitions: CurrentDefinitions, buckets: BucketStore): Stores {
  return {
    buckets,
    statuses: new StatusStore(db),
    corrections: new CorrectionStore(db, definitions),
    decisions: new GateDecisionStore(db),
    evaluations: new GateEvaluationStore(db),
    freezes: new GateFreezeStore(db, config.gateRetention.maxEnvironments),
    overrides: new GateOverrideStore(db),
    deployments: new DeploymentStore(db),
    unsharedDeployments: new UnsharedDeployments(db, MAX_UNSHARED_DEPLOYMENTS),
    alertEpisodes: new AlertEpisodeStore(db),
    alertBurns: new AlertBurnStore(db),
    incidents: new IncidentStore(db),
    outbox: new OutboxStore(db),
    timeline: new TimelineStore(db),
    seriesBreakdown: new SeriesBreakdownStore(db),
    tailOffsets: new TailOffsetStore(db),
    scrapeCounters: new ScrapeCounterStore(db),
    importedFiles: new ImportedFileStore(db),
  };
}

/** What one retention pass of gate state removed. */
export interface GateStateRemoved {
  decisions: number;
  inputs: number;
  deployments: number;
  scopes: number;
}

/**
 * The parts of a running sloguard, wired once from the config. `registry`, `policies` and `openslo` are the
 * current definition set (`definitions`): read them at use, never keep them, since a reload replaces them.
 * The HTTP app and the jobs get narrow parts of this, never the whole.
 */
export interface Sloguard {
  /** One object for the process's life; a reload replaces its reloadable settings in place. */
  config: Config;
  log: Logger;
  db: Db;
  stores: Stores;
  definitions: CurrentDefinitions;
  /** Whether the database file is still the one opened (readiness, ingest, gate). */
  storage: StorageWatch;
  /** With native data in an engine: the queries its SLO charts ask it. */
  chartQueries?: TimeseriesParts['chartQueries'];
  /** With native data in an engine: how SLO breakdowns read it. */
  engineBreakdown?: BreakdownParts['engineBreakdown'];
  readonly registry: SloRegistry;
  readonly policies: DefinitionSet['policies'];
  readonly openslo: DefinitionSet['openslo'];
  buckets: BucketStore;
  pipeline: IngestPipeline;
  /** The caps on series every batch passes before its commit. */
  cardinality: SeriesLimiter;
  routes: ServiceRoutes;
  /** The range every time that enters is held to, from the hour retention and the allowed clock skew. */
  times: TimePolicy;
  /** Parses Zipkin span batches, big ones on worker threads. */
  spans: SpanDecoder;
  /** Set when this process is a collector: observations become counters remote-written to an engine. */
  collector?: RemoteWriteCollector;
  /** Set when replicas share a PostgreSQL (`control.postgres`): the lease and what lives there. */
  control?: ControlPlane;
  evaluator: SloEvaluator;
  /** Corrections (planned downtime, after-the-fact fixes) from the files and the API. */
  corrections: CorrectionStore;
  /** Set on replicas: the API's corrections go to PostgreSQL, and are copied back to `corrections`. */
  correctionWrites?: CorrectionWrites;
  gate: DeployGate;
  decisions: DecisionTrail;
  overrides: GateOverrides;
  deployments: Deployments;
  evaluations: GateEvaluations;
  /** Incidents, reliability figures and DORA keys, read from the episode history (alert/history.ts). */
  history: IncidentHistory;
  /** Drops gate state past its retention or cap (hourly, and at start). */
  pruneGateState(nowMs: number): GateStateRemoved;
  /**
   * Swaps in a definition set and settings already checked, at once (before it returns): route templates,
   * span parsing and latency thresholds follow; the next evaluation uses the new SLOs. The promise resolves
   * once the span threads of the old set have finished their batches.
   */
  replace(definitions: DefinitionSet, settings: ReloadableSettings): Promise<void>;
  /** Stops the span threads; call before `close`. */
  stopThreads(): Promise<void>;
  close(): void;
}

const days = (count: number) => count * 86_400_000;

/** How long a tick waits for the copy of the shared corrections before it evaluates with the last one. */
const PRE_TICK_COPY_MS = 2_000;

/** A replica's part of the replicated control plane (docs/scaling.md#a-replicated-control-plane). */
export interface ControlPlane {
  db: ControlDatabase;
  lease: EvaluatorLease;
  statuses: SharedStatuses;
  /** The gate's overrides, read afresh by every decision. */
  overrides: SharedOverrides;
  /** The audit trail of every replica's decisions. */
  decisions: SharedDecisions;
  /** The gate's freezes, adopted by each decision and read by every replica each second. */
  freezes: SharedFreezes;
  /** Every replica's deployment markers, copied into each one's own store. */
  deployments: SharedDeployments;
  /** This replica's markers and reports, queued and written to PostgreSQL until it takes them. */
  deploymentSharing: DeploymentSharing;
  /** Corrections added through any replica, copied into each one's own store (and before each tick). */
  corrections: SharedCorrections;
}

/** The gate's state read and written in PostgreSQL around each decision. */
function sharedGateState(control: ControlPlane): SharedGateState {
  return {
    active: (service, environment, sha, nowMs) => control.overrides.active(service, environment, sha, nowMs),
    freeze: (scope) => control.freezes.get(scope),
    shareFreeze: (state) => control.freezes.share(state),
  };
}

/** The evaluator of a single process, or of a replica that evaluates only while it holds the lease. */
function createEvaluator(
  config: Config,
  counts: StoreCounts,
  stores: Pick<Stores, 'statuses' | 'freezes' | 'deployments' | 'unsharedDeployments' | 'corrections'>,
  definitions: CurrentDefinitions,
  log: Logger,
): { evaluator: SloEvaluator; control?: ControlPlane } {
  const { statuses, freezes, deployments, unsharedDeployments, corrections } = stores;
  const settings = config.control?.postgres;
  if (settings === undefined)
    return { evaluator: new SloEvaluator(counts, statuses, definitions, config.evaluationIntervalMs) };
  const db = new ControlDatabase(settings, log);
  const lease = new EvaluatorLease(settings, log);
  const shared = new SharedStatuses(db);
  const evaluator = new ReplicaEvaluator(
    counts,
    statuses,
    definitions,
    config.evaluationIntervalMs,
    lease,
    shared,
  );
  // The holder's statuses go to PostgreSQL after each tick, fenced on its lease session.
  evaluator.onEvaluated((results) => {
    const pid = lease.holderPid();
    if (pid === undefined) return;
    shared.write(results, pid).then(
      (written) => {
        if (!written) log.warn('statuses not shared: this replica no longer holds the evaluator lease');
      },
      (error: unknown) => log.error({ err: error }, 'statuses not shared: the control database failed'),
    );
  });
  const sharedDeployments = new SharedDeployments(db, deployments);
  return {
    evaluator,
    control: {
      db,
      lease,
      statuses: shared,
      overrides: new SharedOverrides(db),
      decisions: new SharedDecisions(db),
      freezes: new SharedFreezes(db, {
        // A refresh's change another replica has since replaced (adopted into this copy) is not written.
        isCurrent: (state) => freezes.isFrozen(state) === state.frozen,
        log,
      }),
      deployments: sharedDeployments,
      deploymentSharing: new DeploymentSharing(sharedDeployments, unsharedDeployments, log),
      corrections: new SharedCorrections(db, corrections),
    },
  };
}

/**
 * Loads definitions (refusing invalid ones, as Prometheus refuses bad rules), opens the store, wires the rest.
 * Starts nothing that runs on its own but the span threads: the jobs are `startService`'s.
 */
export function createSloguard(config: Config, log: Logger = createLogger(config.logLevel)): Sloguard {
  const core = openIngestCore(config, log);
  const { db, definitions, buckets, routes, storage, times, cardinality } = core;
  const collector =
    config.collector &&
    new RemoteWriteCollector(config.collector, (key) => declaredThresholds(definitions.registry, key), log);
  const pipeline = collector ? collectorPipeline(core, collector) : core.pipeline;
  const stores = openStores(db, config, definitions, buckets);
  const { evaluator, control } = createEvaluator(config, new StoreCounts(buckets), stores, definitions, log);
  const engine = config.engine;
  if (engine && !definitions.dataSources.has(engine.dataSource)) {
    core.close();
    throw new ConfigError(
      'data.engine',
      `no DataSource named "${engine.dataSource}" in ${config.definitionsPath}`,
    );
  }
  evaluator.addSource(
    new PrometheusCounts(
      process.env,
      engine
        ? eitherPlan(
            handWrittenPromQl,
            enginePlan(engine, () => definitions.dataSources),
          )
        : handWrittenPromQl,
    ),
  );
  evaluator.useCorrections(() => stores.corrections.all());
  // The holder copies the shared corrections right before each tick, so one added through another replica
  // just before counts in it; a copy that fails or runs out of time is logged, and the tick goes on.
  if (control)
    evaluator.beforeEachTick(() =>
      control.corrections.refreshWithin(PRE_TICK_COPY_MS).then(
        () => undefined,
        (error: unknown) =>
          log.warn({ err: error }, 'corrections not copied before the tick; it evaluates with the last copy'),
      ),
    );
  const spanSetup = () => {
    const { registry } = definitions;
    const services = new Set([...registry.byService.keys(), ...Object.keys(config.routeTemplates)]);
    return {
      templates: Object.fromEntries([...services].map((service) => [service, routes.templatesOf(service)])),
      thresholdsUs: collector ? collectorThresholdsUs(registry.thresholdsUs) : registry.thresholdsUs,
      countingRules: registry.countingRules,
    };
  };
  const spans = new SpanDecoder(routes, spanSetup());
  const gate = new DeployGate(
    evaluator,
    definitions,
    {
      ...stores,
      storage,
      ...(control && { shared: sharedGateState(control), decisions: control.decisions }),
    },
    log,
  );
  // Freezes follow every evaluation tick, carried forward a scope a step.
  evaluator.onEvaluatedInSteps(() => gate.refreshFreezesInSteps());
  // Markers and reports are queued with their row and shared after: the gate's answer never waits on them.
  if (control) stores.deployments.onWritten((deployment) => control.deploymentSharing.add(deployment));
  const retention = config.gateRetention;
  return {
    config,
    log,
    db,
    stores,
    definitions,
    storage,
    ...(engine && {
      chartQueries: engineChartQueries(engine, () => definitions.dataSources),
      engineBreakdown: engineBreakdownReader(
        engine,
        () => definitions.dataSources,
        config.cardinality.maxSeriesPerService,
      ),
    }),
    get registry() {
      return definitions.registry;
    },
    get policies() {
      return definitions.policies;
    },
    get openslo() {
      return definitions.openslo;
    },
    buckets,
    pipeline,
    cardinality,
    routes,
    times,
    spans,
    ...(collector && { collector }),
    ...(control && { control }),
    evaluator,
    corrections: stores.corrections,
    ...(control && { correctionWrites: control.corrections }),
    gate,
    decisions: control?.decisions ?? stores.decisions,
    overrides: new GateOverrides(control?.overrides ?? stores.overrides, gate, (service) =>
      definitions.registry.byService.has(service),
    ),
    deployments: new Deployments(
      stores.deployments,
      buckets,
      evaluator,
      definitions,
      promQlPeriodCounts(engine, () => definitions.dataSources),
    ),
    evaluations: new GateEvaluations(stores.evaluations, gate, gateAnswer),
    history: new IncidentHistory({
      incidents: stores.incidents,
      deployments: stores.deployments,
      definitions,
      policyOf: (service) => definitions.policies.incidentPolicy(service),
    }),
    pruneGateState: (nowMs) => ({
      ...stores.decisions.prune(nowMs - days(retention.decisionRetentionDays), retention.maxDecisions),
      deployments: stores.deployments.prune(
        nowMs - days(retention.deploymentRetentionDays),
        retention.maxDeployments,
      ),
      scopes: stores.freezes.prune(nowMs - days(retention.scopeRetentionDays)),
    }),
    replace(set, settings) {
      definitions.replace(set);
      Object.assign(config, reloadableSettings(settings));
      routes.reset();
      return spans.reconfigure(spanSetup());
    },
    stopThreads: () => spans.close(),
    close() {
      evaluator.stop();
      stores.decisions.flush();
      core.close();
    },
  };
}

/**
 * Wires alerting into a sloguard: every evaluation feeds the alert episodes, every gate override created is
 * announced, the last deployment before an episode is looked up from the gate's markers, and OpenSLO alert
 * policies add routes.
 */
export function createAlerting(
  sloguard: Pick<
    Sloguard,
    'config' | 'definitions' | 'stores' | 'evaluator' | 'gate' | 'history' | 'control'
  >,
  log: AlertLog,
  options: DispatcherOptions & { registry?: Registry } = {},
): Alerting {
  const { config, definitions, stores, evaluator, gate, history, control } = sloguard;
  const { registry, ...dispatcherOptions } = options;
  const counted = registry && notificationCounter(registry, [...config.notifications.targets.keys()]);
  // Replicas keep the alert state and outbox in PostgreSQL (docs/scaling.md#alerts-incidents-and-corrections).
  const replicated = control && replicatedAlerting(control.db, control.lease, log);
  // One process holds the database lock, so no other sender is alive: a killed predecessor's claims would
  // otherwise hold its messages back for a whole lease after the restart. Replicas wait claims out.
  if (!replicated) stores.outbox.releaseClaims();
  const alerting = new Alerting(
    {
      config,
      definitions,
      statuses: () => evaluator.current(),
      lastStatus: (slo) => stores.statuses.load(slo),
      ...(replicated?.stores ?? {
        episodes: stores.alertEpisodes,
        incidents: stores.incidents,
        burns: stores.alertBurns,
        outbox: stores.outbox,
      }),
      lastDeployment: (service, atOrBeforeMs) =>
        stores.deployments.list({ service, toMs: atOrBeforeMs + 1, limit: 1 })[0],
      policyRoutes: definitions.openslo.notificationRoutes,
      serviceReport: (service, fromMs, toMs, nowMs) => history.serviceReport(service, fromMs, toMs, nowMs),
      log,
    },
    {
      ...dispatcherOptions,
      ...(counted && {
        onDelivered: (target: string) => counted.inc({ target, outcome: 'delivered' }),
        onGiveUp: (target: string) => counted.inc({ target, outcome: 'given_up' }),
      }),
    },
  );
  // Episodes are timed by the evaluation that saw them (the tick's time), as the burn it measured; a stale
  // status keeps the time of its last good read, so only fresh ones say when the tick was.
  evaluator.onEvaluatedInSteps(function* alertOn(statuses) {
    // A tick that ends after this replica lost the evaluator lease alerts nothing: its successor does.
    if (sloguard.control && !sloguard.control.lease.isHolder()) return;
    let latestFresh: number | undefined;
    for (const s of statuses)
      if (s.staleReason === undefined)
        latestFresh = Math.max(latestFresh ?? s.evaluatedAtMs, s.evaluatedAtMs);
    const tickMs = () => latestFresh ?? Date.now();
    // A replica's alerting waits for the control database's turn, and runs whole there.
    if (replicated)
      void replicated.evaluated(
        () => alerting.evaluated(statuses, tickMs()),
        () => alerting.resume(),
      );
    else yield* alerting.evaluatedInSteps(statuses, tickMs());
  });
  gate.on('override-created', (override) => alerting.overrideCreated(override));
  return alerting;
}

/** The HTTP app over a sloguard, each plugin handed the parts it uses; `/metrics` counts what it answers. */
export async function createApp(
  sloguard: Sloguard,
  options: AppOptions = {},
): Promise<{ app: FastifyInstance; metrics: SloguardMetrics }> {
  const { config, evaluator } = sloguard;
  const metrics = createMetrics(sloguard);
  registerIncidentGauges(metrics.registry, sloguard.history, sloguard.definitions);
  const app = await buildApp(
    {
      ...sloguard,
      timeline: sloguard.stores.timeline,
      seriesBreakdown: sloguard.stores.seriesBreakdown,
      alertEpisodes: sloguard.stores.alertEpisodes,
      metrics,
    },
    options,
  );
  sloguard.control?.deploymentSharing.meter(metrics.registry);
  if (sloguard.collector) {
    sloguard.collector.meter(metrics.registry);
    serveAsCollector(app, sloguard.storage);
  }
  if (config.otelMetricsUrl) {
    // The OpenTelemetry SDK loads only when it is configured (start-up, issue #23).
    const { startOtelMetrics } = await import('./telemetry/otelMetrics.js');
    const otel = startOtelMetrics(evaluator, config.otelMetricsUrl, config.evaluationIntervalMs);
    app.addHook('onClose', () => otel.shutdown());
  }
  return { app, metrics };
}

/**
 * A background job of the service: started in order once it answers, stopped in reverse. `stop` must be safe
 * whether `start` finished, failed half-way or never ran.
 */
export interface BackgroundJob {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/**
 * Starts jobs one after another; a job that fails to start stops itself and those already started, in
 * reverse (every job's stop is safe before or after a partial start). The stop
 * returned stops every started job in reverse, each in turn even when one before it fails (that is logged).
 */
export async function startJobs(
  jobs: readonly BackgroundJob[],
  log: { error(details: object, message: string): void },
): Promise<() => Promise<void>> {
  const started: BackgroundJob[] = [];
  const stopAll = async () => {
    for (const job of started.splice(0).reverse()) {
      try {
        await job.stop();
      } catch (error) {
        log.error({ err: error, job: job.name }, 'background job failed to stop');
      }
    }
  };
  for (const job of jobs) {
    // Counted as started before it is: a job that fails half-way (one tailer of three) is stopped too.
    started.push(job);
    try {
      await job.start();
    } catch (error) {
      log.error({ err: error, job: job.name }, 'background job failed to start; stopping the service');
      await stopAll();
      throw error;
    }
  }
  return stopAll;
}

/**
 * A set of jobs made from the settings (tailers, scrapers) as one job; `restart` makes them again from the
 * settings in force (after a reload changed them).
 */
function restartable(
  name: string,
  make: () => BackgroundJob[],
): BackgroundJob & { restart(): Promise<void> } {
  let running: BackgroundJob[] = [];
  const job = {
    name,
    async start() {
      running = make();
      await Promise.all(running.map((part) => part.start()));
    },
    async stop() {
      await Promise.all(running.map((part) => part.stop()));
      running = [];
    },
    async restart() {
      await job.stop();
      await job.start();
    },
  };
  return job;
}

/** Log files tailed, one job per `collectors:` entry; tailed lines refused are counted in /metrics as HTTP ones. */
function tailers(sloguard: Sloguard, metrics: SloguardMetrics): BackgroundJob[] {
  const { config, pipeline, routes, stores, log } = sloguard;
  return config.collectors.map((settings) => {
    const tailer = new LogTailer(settings, {
      pipeline,
      routes,
      offsets: stores.tailOffsets,
      parse: LOG_FORMATS[settings.format]!,
      sourceSettings: config.sources[settings.source],
      log,
      countRejected: (reason, lines) => metrics.countRejected('loadbalancer', reason, lines),
    });
    return {
      name: `tailer ${tailer.name}`,
      async start() {
        await tailer.start();
        log.info({ collector: tailer.name }, 'tailing');
      },
      stop: () => tailer.stop(),
    };
  });
}

/** Load-balancer metrics scraped, one job per `scrape:` entry. */
function scrapers(sloguard: Sloguard): BackgroundJob[] {
  const { config, pipeline, routes, stores, log } = sloguard;
  return config.scrapeTargets.map((settings) => {
    const scraper = new LbScraper(settings, { pipeline, routes, store: stores.scrapeCounters, log });
    return { name: `scraper ${settings.source}`, start: () => scraper.start(), stop: () => scraper.stop() };
  });
}

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

/** A listen that failed (port taken, address not on this host): the process cannot serve and must stop. */
export class ListenError extends Error {
  override name = 'ListenError';
}

async function listen<T>(host: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why =
      code === 'EADDRINUSE'
        ? 'the port is in use'
        : code === 'EADDRNOTAVAIL'
          ? 'no such address here'
          : message;
    throw new ListenError(`cannot listen on ${host}:${port}: ${why} (${code ?? 'error'})`);
  }
}

/** The address the server is bound to, as a URL (the port the system chose, when 0 was asked). */
function boundUrl(app: FastifyInstance, config: Config): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}

/** WAL checkpoints on a thread of their own, for a file database when the build can start threads. */
export function walCheckpoints(sloguard: Pick<Sloguard, 'db' | 'config' | 'log'>): BackgroundJob {
  let checkpointer: WalCheckpointer | undefined;
  return {
    name: 'WAL checkpoints',
    start() {
      checkpointer = WalCheckpointer.start(sloguard.db, sloguard.config.databasePath, (error) =>
        sloguard.log.warn(
          { err: error },
          'WAL checkpoint thread failed; commits checkpoint every 1,000 pages',
        ),
      );
    },
    stop: () => checkpointer?.stop(),
  };
}

/**
 * The first evaluation, in the background: the service answers meanwhile, the gate from the statuses the last
 * run stored (marked `from_last_run`), and `/readyz` once those cover every SLO. A failure is logged; the tick
 * tries again.
 */
function firstEvaluation(evaluator: SloEvaluator, log: Logger): BackgroundJob {
  let running: Promise<void> | undefined;
  return {
    name: 'first evaluation',
    start() {
      const startedAt = performance.now();
      running = evaluator.tick().then(
        (statuses) =>
          log.info(
            { slos: statuses.length, durationMs: Math.round(performance.now() - startedAt) },
            'first evaluation done',
          ),
        (error: unknown) => log.error({ err: error }, 'first evaluation failed; the next tick tries again'),
      );
    },
    stop: () => running,
  };
}

/** How often a replica reads the statuses the lease holder shared. */
const SHARED_STATUS_REFRESH_MS = 1_000;

/**
 * A replica's evaluation: the evaluator lease tried at start and every check after; while this replica holds
 * it, the evaluation jobs (first evaluation, alerting, the tick) run, and they stop the moment it is lost.
 * Every replica reads the shared statuses each second, holder or not. Lease changes apply one at a time.
 */
function leasedEvaluation(
  control: ControlPlane,
  freezes: GateFreezeStore,
  evaluating: () => BackgroundJob[],
  log: Logger,
): BackgroundJob {
  let changes: Promise<void> = Promise.resolve();
  let stopEvaluating: (() => Promise<void>) | undefined;
  const change = (step: () => Promise<void>) => {
    changes = changes
      .then(step)
      .catch((error: unknown) => log.error({ err: error }, 'evaluator lease change failed'));
  };
  // Freezes other replicas changed are adopted too, so the overview and the next decision see them.
  const adoptFreezes = async () => {
    for (const state of await control.freezes.changes()) freezes.set(state, state.frozen, state.changedAtMs);
  };
  const refresh = new RepeatingJob(
    () => Promise.all([control.statuses.refresh(), adoptFreezes()]),
    SHARED_STATUS_REFRESH_MS,
    (error) =>
      log.warn({ err: error }, 'shared statuses or freezes not read; the copies age until the next read'),
  );
  const stop = async () => {
    const running = stopEvaluating;
    stopEvaluating = undefined;
    await running?.();
  };
  return {
    name: 'evaluator lease',
    async start() {
      await Promise.all([control.statuses.refresh(), adoptFreezes()]).catch(() => undefined);
      refresh.start();
      control.lease.on('gained', () =>
        change(async () => {
          if (control.lease.isHolder() && !stopEvaluating)
            stopEvaluating = await startJobs(evaluating(), log);
        }),
      );
      control.lease.on('lost', () => change(stop));
      control.lease.start();
    },
    async stop() {
      await control.lease.stop();
      change(stop);
      await changes;
      await refresh.stop();
    },
  };
}

/** Every replica's copies of the incident history, corrections, deployments and open alerts in PostgreSQL (control/replicaCopies.ts). */
function replicaCopies(sloguard: Sloguard, control: ControlPlane, log: Logger): BackgroundJob {
  const copies = new ReplicaCopies(
    control.db,
    new SharedIncidents(control.db, sloguard.stores.incidents),
    control.corrections,
    control.deployments,
    sloguard.stores.alertEpisodes,
    log,
  );
  return {
    name: 'incident, correction and deployment copies',
    start: () => copies.start(),
    stop: () => copies.stop(),
  };
}

/** Sends the deployments a previous run left unshared, and stops the retries on the way out. */
function deploymentSharing(sharing: DeploymentSharing): BackgroundJob {
  return { name: 'deployment sharing', start: () => sharing.start(), stop: () => sharing.stop() };
}

/**
 * A collector's flushes and sender. Stopped by `close` once the server no longer takes requests, so the last
 * flush holds every acknowledged observation.
 */
function remoteWriting(collector: RemoteWriteCollector): BackgroundJob {
  return { name: 'remote write', start: () => collector.start(), stop() {} };
}

/** Flushes a collector's last counts to its buffer and sends for a moment (what is left waits for the next start). */
async function stopCollecting(sloguard: Sloguard): Promise<void> {
  sloguard.pipeline.flush();
  await sloguard.collector?.stop();
}

/**
 * The service's background work, in start order; `close` stops it in reverse. The last started, self-tracing,
 * is stopped first, while the server still answers, so the last spans can go to it (`self`).
 */
function backgroundJobs(
  sloguard: Sloguard,
  parts: {
    url: string;
    alerting: Alerting;
    reloader: Reloader;
    tailing: BackgroundJob;
    scraping: BackgroundJob;
  },
): BackgroundJob[] {
  const { config, log, evaluator } = sloguard;
  const { alerting, reloader } = parts;
  const logError = (error: unknown) => log.error({ err: error }, 'scheduled job failed');
  const evaluating = (): BackgroundJob[] => [
    firstEvaluation(evaluator, log),
    { name: 'alerting', start: () => alerting.start(), stop: () => alerting.stop() },
    { name: 'evaluation tick', start: () => evaluator.start(logError), stop: () => evaluator.stop() },
  ];
  // Gate decisions, deployments and freeze scopes past their retention or cap (docs/storage.md).
  const pruneGateState = () => {
    try {
      log.info({ removed: sloguard.pruneGateState(Date.now()) }, 'gate state retention applied');
    } catch (error) {
      logError(error);
    }
    // Any replica may prune the shared audit trail: the DELETE is the same whoever runs it.
    const { gateRetention: retention } = config;
    sloguard.control?.decisions
      .prune(Date.now() - retention.decisionRetentionDays * 86_400_000, retention.maxDecisions)
      .then((decisions) => log.info({ decisions }, 'shared gate decisions retention applied'), logError);
    sloguard.control?.deployments
      .prune(Date.now() - retention.deploymentRetentionDays * 86_400_000, retention.maxDeployments)
      .then((deployments) => log.info({ deployments }, 'shared deployments retention applied'), logError);
  };
  const applyRetention = () => {
    try {
      const removed = sloguard.buckets.applyRetention(Date.now(), config.hourRetentionDays);
      const cutoffMs = Date.now() - config.hourRetentionDays * 86_400_000;
      const incidents = sloguard.stores.incidents.prune(cutoffMs);
      if (sloguard.control) pruneSharedIncidents(sloguard.control.db, cutoffMs).catch(logError);
      log.info({ removed, incidents }, 'retention applied');
    } catch (error) {
      logError(error);
    }
    pruneGateState();
  };
  let retention: ScheduledTask | undefined;
  let tracing: Tracing | undefined;
  // SIGHUP reloads, as for Prometheus; it never stops the process.
  const onHangup = () => void reloader.reload('SIGHUP');
  const once = (name: string, run: () => unknown): BackgroundJob => ({
    name,
    async start() {
      await run();
    },
    stop() {},
  });
  return [
    walCheckpoints(sloguard),
    once('gate state retention at start', pruneGateState),
    // A collector evaluates and alerts nowhere: it remote-writes what it ingests (docs/scaling.md).
    ...(sloguard.collector
      ? [remoteWriting(sloguard.collector)]
      : sloguard.control
        ? [
            leasedEvaluation(sloguard.control, sloguard.stores.freezes, evaluating, log),
            replicaCopies(sloguard, sloguard.control, log),
            deploymentSharing(sloguard.control.deploymentSharing),
          ]
        : evaluating()),
    {
      name: 'hourly retention',
      start() {
        retention = cron.schedule('17 * * * *', applyRetention, { noOverlap: true, name: 'retention' });
      },
      stop: () => retention?.stop(),
    },
    parts.tailing,
    parts.scraping,
    {
      name: 'reload on SIGHUP and definition changes',
      start() {
        process.on('SIGHUP', onHangup);
        if (config.watchDefinitions) reloader.watch(config.definitionsPath);
      },
      async stop() {
        process.removeListener('SIGHUP', onHangup);
        await reloader.stop();
      },
    },
    {
      name: 'self-tracing',
      async start() {
        if (config.tracingUrl === undefined) return;
        tracing = await startTracing(tracingEndpoint(config.tracingUrl, parts.url), log, config.tracingToken);
      },
      stop: () => tracing?.shutdown(),
    },
  ];
}

/**
 * Starts everything: lock the database → logger, config, store, definitions → HTTP server bound → the
 * background jobs in order (WAL checkpoints, gate state retention, first evaluation, alerting, the evaluation
 * tick, tailers, scrapers, reload triggers, self-tracing). Nothing is evaluated, sent or written before the
 * lock is held and the port bound: a process that cannot serve stops without touching the database. `close`
 * stops the jobs in reverse, stops taking requests, commits what is queued, closes the database and releases
 * the lock.
 */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<RunningService> {
  const lock = lockDatabase(config.databasePath, 'sloguard serve');
  const log = createLogger(config.logLevel);
  let sloguard: Sloguard | undefined;
  let app: FastifyInstance | undefined;
  let otlp: OtlpListener | undefined;
  // A start that fails leaves nothing behind: no thread, no open database, no lock.
  const abandon = async (error: unknown): Promise<never> => {
    await otlp?.close();
    await app?.close();
    await sloguard?.stopThreads();
    if (sloguard) await stopCollecting(sloguard);
    sloguard?.close();
    await sloguard?.control?.freezes.stop();
    await sloguard?.control?.db.close();
    lock.release();
    throw error;
  };
  let metrics: SloguardMetrics;
  let reloader: Reloader;
  try {
    sloguard = createSloguard(config, log);
    await sloguard.control?.db.migrate();
    // The route calls the reloader made below; it answers only after listen.
    ({ app, metrics } = await createApp(sloguard, { reload: () => reloader.reload('http') }));
  } catch (error) {
    return abandon(error);
  }
  const service = sloguard;
  const server = app;
  const alerting = createAlerting(service, log, { registry: metrics.registry });
  const tailing = restartable('tailers', () => tailers(service, metrics));
  const scraping = restartable('scrapers', () => scrapers(service));
  reloader = new Reloader({
    sloguard: service,
    ...(options.rereadConfig && { rereadConfig: options.rereadConfig }),
    metrics: metrics.registry,
    log,
    async applied(changed) {
      alerting.reconfigure(service.openslo.notificationRoutes);
      if (changed.collectors) await tailing.restart();
      if (changed.scrapeTargets) await scraping.restart();
      // New SLOs get a status, removed ones resolve their alerts, without waiting for the tick.
      if (!service.collector && (service.control?.lease.isHolder() ?? true)) await service.evaluator.tick();
    },
  });
  service.cardinality.onOverflow(({ cap, refused, foldedInto, folded }) =>
    log.warn(
      { cap, service: refused.service, refused, foldedInto, folded },
      'series cap reached: new series are counted under an overflow series (docs/security.md#cardinality)',
    ),
  );
  let stopJobs: () => Promise<void>;
  let url: string;
  try {
    await listen(config.host, config.port, () => server.listen({ host: config.host, port: config.port }));
    url = boundUrl(server, config);
    const { otlpPort } = config;
    if (otlpPort !== undefined)
      otlp = await listen(config.host, otlpPort, () => listenForOtlp(server, config.host, otlpPort));
    stopJobs = await startJobs(backgroundJobs(service, { url, alerting, reloader, tailing, scraping }), log);
  } catch (error) {
    return abandon(error);
  }
  log.info({ slos: service.registry.definitions.length }, `sloguard listening on ${url}`);
  if (otlp) log.info(`OTLP/HTTP (/v1/traces, /v1/metrics) also listening on ${otlp.url}`);
  return {
    sloguard: service,
    url,
    reloader,
    async close() {
      await stopJobs();
      await otlp?.close();
      await server.close();
      await service.stopThreads();
      await stopCollecting(service);
      service.close();
      await service.control?.freezes.stop();
      await service.control?.db.close();
      lock.release();
    },
  };
}
