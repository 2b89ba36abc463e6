import type { Readable } from 'node:stream';
import client, { type Counter, type Histogram, Registry } from 'prom-client';
import type { DeployGate } from '../gate/gate.js';
import type { SeriesLimiter } from '../ingest/cardinality.js';
import type { IngestPipeline } from '../ingest/pipeline.js';
import type { Decision } from '../model/gate.js';
import type { SourceKind } from '../model/observation.js';
import type { SloStatus } from '../model/status.js';
import type { SloEvaluator } from '../schedule/scheduler.js';
import { mapInSlices, SCRAPE_LIMITS, type SlicedFamily, scrapeStreams } from './exposition.js';

/**
 * sloguard's own figures in the Prometheus text format, on a Registry of its own (never prom-client's global
 * one, so two instances in one process, as in tests, do not collide). Per-SLO gauges are read from the
 * evaluator's latest statuses at scrape time; label values come from the SLO definitions, fixed code sets
 * (windows, outcomes, reasons that are error codes) and never from request data, so cardinality stays
 * bounded by the number of SLOs.
 */
export interface SloguardMetrics {
  registry: Registry;
  /**
   * The text exposition as a stream of slices, built as the client reads and yielding to the event loop between
   * them; undefined while the limits' number of scrapes are streaming already.
   */
  scrape(): Readable | undefined;
  /** Counts what one ingest request did with its lines or spans. */
  countIngest(source: SourceKind, outcome: IngestOutcome, events: number): void;
  /** Counts events refused, by a reason from a fixed set (the API's error codes, or `invalid_line`). */
  countRejected(source: SourceKind, reason: string, events: number): void;
  evaluationSeconds: Histogram;
}

export type IngestOutcome = 'accepted' | 'rejected' | 'skipped';

/** `sloguard_slo_alert_state` values: which burn-rate tier fires. */
export const ALERT_STATE = { none: 0, ticket: 1, page: 2 } as const;

/** What the figures are read from, at scrape time or as they happen. */
export interface MeteredParts {
  evaluator: SloEvaluator;
  gate: DeployGate;
  pipeline: IngestPipeline;
  cardinality: SeriesLimiter;
}

export function createMetrics(parts: MeteredParts, limits = SCRAPE_LIMITS): SloguardMetrics {
  const registry = new Registry();
  client.collectDefaultMetrics({ register: registry });
  const { evaluator, gate, pipeline, cardinality } = parts;

  /**
   * A gauge family read from the latest statuses at each scrape and kept nowhere between scrapes. A prom-client
   * Gauge keeps every labelled series it was set in a map until the next scrape: at 10,000 SLOs about 126,000
   * series, 60 MB of heap held for good after the first scrape (issue #23, RSS at 10,000 SLOs). A scrape reads it
   * a slice of statuses at a time (`slices`), so only one slice's series exist at once; the registry's own
   * `metrics()` reads it whole with `get()`, as any gauge.
   */
  const statusFamily = <T>(
    name: string,
    help: string,
    series: (
      status: SloStatus,
      prepared: T,
      add: (labels: FamilySeries['labels'], value: number) => void,
    ) => void,
    prepare: () => T = () => undefined as T,
  ) => {
    const family = { name, help, type: 'gauge', aggregator: 'sum' } as const;
    const slices = () => {
      const prepared = prepare();
      return mapInSlices<SloStatus, FamilySeries>(evaluator.current(), (status, add) =>
        series(status, prepared, (labels, value) => add({ labels, value })),
      );
    };
    const get = async () => {
      const values: FamilySeries[] = [];
      for await (const slice of slices()) values.push(...slice);
      return { ...family, values };
    };
    const sliced: SlicedFamily<FamilySeries> & { get: typeof get } = { ...family, slices, get };
    // prom-client types a registered metric as one of its own classes; the registry only reads these fields.
    registry.registerMetric(sliced as unknown as client.Metric);
  };

  /**
   * One gauge family per SLO figure, read from the latest statuses on every scrape; `prepare` reads once per
   * scrape what the figure needs besides the status.
   */
  const perSlo = <T = undefined>(
    name: string,
    help: string,
    value: (status: SloStatus, prepared: T) => number | null,
    prepare: () => T = () => undefined as T,
  ) =>
    statusFamily<T>(
      name,
      help,
      (status, prepared, add) => {
        const figure = value(status, prepared);
        if (figure !== null) add({ slo: status.name, service: status.service }, figure);
      },
      prepare,
    );

  perSlo(
    'sloguard_slo_sli_ratio',
    'Good events over valid events in the SLO window (absent without data).',
    (s) => s.sli,
  );
  perSlo(
    'sloguard_slo_objective_ratio',
    'The SLO objective as a ratio (0.9995 for 99.95%).',
    (s) => s.objective,
  );
  perSlo(
    'sloguard_slo_error_budget_remaining_ratio',
    'Share of the error budget left in the SLO window; negative when overspent.',
    (s) => s.budget.remainingRatio,
  );
  perSlo(
    'sloguard_slo_alert_state',
    'Highest burn-rate alert tier firing: 0 none, 1 ticket, 2 page.',
    (s) => ALERT_STATE[s.firing ?? 'none'],
  );
  perSlo(
    'sloguard_slo_stale',
    '1 when the latest status is stale (evaluator behind or data source failing).',
    (s) => (evaluator.isStale(s) ? 1 : 0),
  );
  perSlo(
    'sloguard_slo_gate_frozen',
    '1 when the deploy gate holds a freeze for the SLO’s service (in any environment).',
    (s, frozen) => (frozen.has(s.service) ? 1 : 0),
    () =>
      new Set(
        gate
          .freezes()
          .filter((scope) => scope.frozen)
          .map((scope) => scope.service),
      ),
  );

  statusFamily(
    'sloguard_slo_burn_rate',
    'Error rate over the burn-rate window divided by the allowed error rate (1 spends the budget exactly).',
    (status, _prepared, add) => {
      for (const [window, rate] of Object.entries(status.burnRates)) {
        if (rate !== null) add({ slo: status.name, service: status.service, window }, rate);
      }
    },
  );

  const ingested: Counter = new client.Counter({
    name: 'sloguard_ingest_events_total',
    help: 'Access-log lines and spans received, by source kind and what became of them.',
    labelNames: ['source', 'outcome'],
    registers: [registry],
  });
  const rejected: Counter = new client.Counter({
    name: 'sloguard_ingest_rejected_total',
    help: 'Lines and spans refused, by source kind and reason: invalid_line, time_out_of_range or line_too_long (past the line-length limit) per line, or the API error code of a request refused whole (counted once).',
    labelNames: ['source', 'reason'],
    registers: [registry],
  });
  new client.Gauge({
    name: 'sloguard_ingest_queue_observations',
    help: 'Observations waiting in the write queue for the next group commit.',
    registers: [registry],
    collect() {
      this.set(pipeline.queuedObservations);
    },
  });
  new client.Gauge({
    name: 'sloguard_series',
    help: 'Series in the store (source, service, operation, method keys); capped by SLOGUARD_MAX_SERIES.',
    registers: [registry],
    collect() {
      this.set(cardinality.seriesCount);
    },
  });
  new client.Counter({
    name: 'sloguard_series_overflow_total',
    help: 'New series counted under an overflow series instead, by the cap that was reached: services, series_per_service or series.',
    labelNames: ['cap'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cap, count] of cardinality.overflowed) this.inc({ cap }, count);
    },
  });
  const evaluationSeconds = new client.Histogram({
    name: 'sloguard_evaluation_duration_seconds',
    help: 'Time one evaluation tick takes for all SLOs.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [registry],
  });
  const decisions = new client.Counter({
    name: 'sloguard_gate_decisions_total',
    help: 'Deploy gate decisions, by outcome.',
    labelNames: ['decision'],
    registers: [registry],
  });
  // Every outcome is present from the start, so rate() sees the first deny rather than a new series.
  for (const decision of ['allow', 'warn', 'deny', 'error'] satisfies Decision[])
    decisions.inc({ decision }, 0);
  gate.on('decision', (decision) => decisions.inc({ decision: decision.decision }));
  evaluator.onEvaluated((_statuses, durationMs) => evaluationSeconds.observe(durationMs / 1000));

  return {
    registry,
    scrape: scrapeStreams(registry, limits),
    evaluationSeconds,
    countIngest(source, outcome, events) {
      if (events > 0) ingested.inc({ source, outcome }, events);
    },
    countRejected(source, reason, events) {
      if (events > 0) rejected.inc({ source, reason }, events);
    },
  };
}

/** One series of a family read from the statuses, as prom-client's formatter takes it. */
interface FamilySeries {
  labels: { slo: string; service: string; window?: string };
  value: number;
}

/** `sloguard_notifications_total{target, outcome}`: every target's series exist from the start, at 0. */
export function notificationCounter(registry: Registry, targets: readonly string[]) {
  const counter = new client.Counter({
    name: 'sloguard_notifications_total',
    help: 'Chat notifications by target and outcome: delivered, or given_up (refused, or older than giveUpAfter)',
    labelNames: ['target', 'outcome'] as const,
    registers: [registry],
  });
  for (const target of targets)
    for (const outcome of ['delivered', 'given_up']) counter.inc({ target, outcome }, 0);
  return counter;
}
