import cron, { type ScheduledTask } from 'node-cron';
import { evaluationCron } from '../config/config.js';
import type { Correction } from '../definitions/corrections.js';
import type { SloRegistry } from '../definitions/registry.js';
import type { SloDefinition } from '../definitions/slo.js';
import type { BucketStore, WindowCounts } from '../store/buckets.js';
import type { StatusStore } from '../store/statuses.js';
import { indicatorCounts, storeInput } from './inputs.js';
import { type ExternalCounts, noEvents } from './source.js';
import { type EventCounts, evaluateSlo, type SloStatus } from './status.js';

export function eventCounts(definition: SloDefinition, counts: WindowCounts): EventCounts {
  return indicatorCounts(definition.indicator, counts);
}

/**
 * Runs the pure evaluation for every SLO on each tick: reads window sums from the store, computes each
 * SloStatus, keeps the latest in memory for the gate and the API, and persists them.
 */
export class SloEvaluator {
  private latest = new Map<string, SloStatus>();
  private task: ScheduledTask | undefined;
  private readonly external: ExternalCounts[] = [];
  private readonly listeners: Array<(statuses: readonly SloStatus[], durationMs: number) => void> = [];
  private corrections: () => readonly Correction[] = () => [];

  constructor(
    private readonly buckets: BucketStore,
    private readonly statuses: StatusStore,
    private registry: SloRegistry,
    readonly intervalMs: number,
  ) {
    for (const status of statuses.loadAll()) {
      if (registry.byName.has(status.name)) this.latest.set(status.name, status);
    }
  }

  evaluateAll(nowMs = Date.now()): SloStatus[] {
    const startedAt = performance.now();
    const corrections = this.corrections();
    const results = this.buckets.readPass(() => {
      const series = this.buckets.listSeries();
      return this.registry.definitions.map((definition) => {
        const external = this.external.find((source) => source.reads(definition));
        if (external) return this.evaluateExternal(definition, external, nowMs);
        const input = storeInput(this.buckets, definition, series, nowMs, corrections);
        return evaluateSlo(definition, input, nowMs);
      });
    });
    this.statuses.saveAll(results);
    this.latest = new Map(results.map((status) => [status.name, status]));
    const durationMs = performance.now() - startedAt;
    for (const listener of this.listeners) listener(results, durationMs);
    return results;
  }

  /** Calls `listener` with every evaluation's statuses and how long it took, after they are saved (alerting hangs here). */
  onEvaluated(listener: (statuses: readonly SloStatus[], durationMs: number) => void): void {
    this.listeners.push(listener);
  }

  /** The latest status of each SLO, in definition order. */
  current(): SloStatus[] {
    return this.registry.definitions.flatMap((d) => this.latest.get(d.name) ?? []);
  }

  status(name: string): SloStatus | undefined {
    return this.latest.get(name);
  }

  /** A status older than two ticks is stale (the evaluator has stopped keeping up), or its source failed. */
  isStale(status: SloStatus, nowMs = Date.now()): boolean {
    return status.staleReason !== undefined || nowMs - status.evaluatedAtMs > 2 * this.intervalMs;
  }

  /** Where corrections come from (files and the API); every tick applies those in force then. */
  useCorrections(corrections: () => readonly Correction[]): void {
    this.corrections = corrections;
  }

  /** Adds a source of counts outside the store (a Prometheus-compatible engine) for the SLOs it reads. */
  addSource(source: ExternalCounts): void {
    this.external.push(source);
  }

  /** One tick: asks external sources (bounded by their timeouts), then evaluates every SLO. */
  async tick(nowMs = Date.now()): Promise<SloStatus[]> {
    await Promise.all(this.external.map((source) => source.refresh(this.registry.definitions, nowMs)));
    return this.evaluateAll(nowMs);
  }

  /**
   * An SLO whose source failed keeps its last numbers, marked stale, so the gate applies its no-data policy
   * instead of trusting or blocking on them.
   */
  private evaluateExternal(definition: SloDefinition, source: ExternalCounts, nowMs: number): SloStatus {
    const read = source.read(definition);
    if (!('failure' in read)) return evaluateSlo(definition, read, nowMs);
    const previous =
      this.latest.get(definition.name) ??
      evaluateSlo(definition, noEvents(nowMs, definition.windowMs), nowMs);
    return { ...previous, staleReason: read.failure };
  }

  start(onError: (error: unknown) => void): void {
    this.task = cron.schedule(
      evaluationCron(this.intervalMs),
      async () => {
        try {
          await this.tick();
        } catch (error) {
          onError(error);
        }
      },
      { noOverlap: true, name: 'evaluate-slos' },
    );
  }

  stop(): void {
    this.task?.stop();
  }
}
