import type { CurrentRegistry } from '../definitions/registry.js';
import { evaluateSlo } from '../evaluate/status.js';
import type { Correction } from '../model/correction.js';
import type { SloDefinition } from '../model/slo.js';
import type { SloStatus } from '../model/status.js';
import { RepeatingJob } from '../repeatingJob.js';
import { type CountsRead, type CountsSource, noEvents } from '../sources/counts.js';
import type { StatusStore } from '../store/statuses.js';

/**
 * Milliseconds until the next tick: the next multiple of the interval on the wall clock (so ticks land on
 * round times) that lies at least half an interval ahead. Always between half and one and a half intervals,
 * whatever the wall clock did: the timer that waits it out runs on the monotonic clock, so a wall-clock step
 * back (NTP, a VM restored) delays no tick, where a cron schedule would wait until the wall clock got back.
 */
export function delayToNextTick(nowMs: number, intervalMs: number): number {
  const half = intervalMs / 2;
  const from = nowMs + half;
  return half + intervalMs - (((from % intervalMs) + intervalMs) % intervalMs);
}

/**
 * Runs the pure evaluation for every SLO on each tick: asks the count sources (a Prometheus-compatible engine
 * for the SLOs it reads, the store for the rest), computes each SloStatus, keeps the latest in memory for the
 * gate and the API, and persists them. Each tick evaluates at the wall time it runs; how old a status is comes
 * from the monotonic clock, so wall-clock steps do not make a fresh status stale or an old one fresh (see
 * isStale).
 */
export class SloEvaluator {
  private latest = new Map<string, SloStatus>();
  /** performance.now() when each status of this process was evaluated. */
  private readonly evaluatedMonotonic = new WeakMap<SloStatus, number>();
  private ticking: RepeatingJob | undefined;
  /** Asked in order: the first that reads an SLO supplies its counts; the store, last, reads every SLO. */
  private readonly sources: CountsSource[];
  private readonly listeners: Array<(statuses: readonly SloStatus[], durationMs: number) => void> = [];
  private corrections: () => readonly Correction[] = () => [];

  constructor(
    store: CountsSource,
    private readonly statuses: StatusStore,
    /** The current SLOs: a reload swaps them, and the next tick evaluates the new set. */
    private readonly definitions: CurrentRegistry,
    readonly intervalMs: number,
  ) {
    this.sources = [store];
    for (const status of statuses.loadAll()) {
      if (definitions.registry.byName.has(status.name)) this.latest.set(status.name, status);
    }
  }

  evaluateAll(nowMs = Date.now()): SloStatus[] {
    const startedAt = performance.now();
    const corrections = this.corrections();
    const evaluateEach = () =>
      this.definitions.registry.definitions.map((definition) => {
        const source = this.sources.find((candidate) => candidate.reads(definition))!;
        return this.evaluate(definition, source.read(definition, nowMs, corrections), nowMs);
      });
    const results = this.sources.reduce<() => SloStatus[]>(
      (reads, source) => () => source.readPass(reads),
      evaluateEach,
    )();
    this.statuses.saveAll(results);
    this.latest = new Map(results.map((status) => [status.name, status]));
    for (const status of results) this.evaluatedMonotonic.set(status, startedAt);
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
    return this.definitions.registry.definitions.flatMap((d) => this.latest.get(d.name) ?? []);
  }

  status(name: string): SloStatus | undefined {
    return this.latest.get(name);
  }

  /**
   * Stale: its source failed; or it is older than two ticks (the evaluator has stopped keeping up), measured on
   * the monotonic clock for statuses of this process and on the wall clock for those loaded at start; or it
   * was evaluated later than `nowMs`: the wall clock stepped back, and the status is superseded at the next tick.
   */
  isStale(status: SloStatus, nowMs = Date.now()): boolean {
    if (status.staleReason !== undefined || status.evaluatedAtMs > nowMs) return true;
    const evaluatedAt = this.evaluatedMonotonic.get(status);
    const ageMs = evaluatedAt === undefined ? nowMs - status.evaluatedAtMs : performance.now() - evaluatedAt;
    return ageMs > 2 * this.intervalMs;
  }

  /** Where corrections come from (files and the API); every tick applies those in force then. */
  useCorrections(corrections: () => readonly Correction[]): void {
    this.corrections = corrections;
  }

  /** Adds a source of counts outside the store (a Prometheus-compatible engine), asked before the store. */
  addSource(source: CountsSource): void {
    this.sources.splice(this.sources.length - 1, 0, source);
  }

  /** One tick: asks the sources for what they need (bounded by their timeouts), then evaluates every SLO. */
  async tick(nowMs = Date.now()): Promise<SloStatus[]> {
    await Promise.all(
      this.sources.map((source) => source.refresh(this.definitions.registry.definitions, nowMs)),
    );
    return this.evaluateAll(nowMs);
  }

  /**
   * An SLO whose source failed keeps its last numbers, marked stale, so the gate applies its no-data policy
   * instead of trusting or blocking on them.
   */
  private evaluate(definition: SloDefinition, read: CountsRead, nowMs: number): SloStatus {
    if (!('failure' in read)) return evaluateSlo(definition, read, nowMs);
    const previous =
      this.latest.get(definition.name) ??
      evaluateSlo(definition, noEvents(nowMs, definition.windowMs), nowMs);
    return { ...previous, staleReason: read.failure };
  }

  /**
   * Ticks until stopped, on the service's one periodic runner; a tick never overlaps the one before, and a failed
   * tick does not stop the next. A tick still running when the evaluator is stopped and started again schedules
   * nothing: each start has a runner of its own, and a stopped one schedules no more.
   */
  start(onError: (error: unknown) => void): void {
    if (this.ticking) return;
    this.ticking = new RepeatingJob(
      () => this.tick(),
      () => delayToNextTick(Date.now(), this.intervalMs),
      onError,
      false,
    );
    this.ticking.start();
  }

  /** Stops ticking; the promise resolves once a tick under way has finished. */
  stop(): Promise<void> {
    const ticking = this.ticking;
    this.ticking = undefined;
    return ticking?.stop() ?? Promise.resolve();
  }
}
