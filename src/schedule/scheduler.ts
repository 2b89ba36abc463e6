import type { CurrentRegistry } from '../definitions/registry.js';
import { evaluateSlo } from '../evaluate/status.js';
import type { Correction } from '../model/correction.js';
import type { SloDefinition } from '../model/slo.js';
import type { SloStatus } from '../model/status.js';
import { RepeatingJob } from '../repeatingJob.js';
import { type CountsRead, type CountsSource, noEvents } from '../sources/counts.js';
import type { StatusStore } from '../store/statuses.js';
import { nextTurn, runInSlices, runWhole, type SteppedWork } from './slices.js';

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
 * How long one slice of a tick (evaluating, then saving the statuses) may hold the event loop before it
 * yields: a gate request that lands in a slice waits for its end, so the slice bounds what a tick adds to the
 * gate's tail. At 10 ms a tick of 10,000 SLOs put the gate's p99 at 7× bare fastify's (docs/benchmarks.md).
 */
export const EVALUATION_SLICE_MS = 1;

/**
 * The oldest a status the last run stored may be and still be judged on its numbers until this process has
 * evaluated (or two evaluation intervals, when longer): a restart takes seconds, an outage of the service
 * longer than this has missed too much to trust what it saw last.
 */
export const LAST_RUN_TRUSTED_MS = 3_600_000;

/** What runs after each evaluation, as steps (see onEvaluatedInSteps). */
type EvaluationListener = (statuses: readonly SloStatus[], durationMs: number) => SteppedWork;

/**
 * Runs the pure evaluation for every SLO on each tick: asks the count sources (a Prometheus-compatible engine
 * for the SLOs it reads, the store for the rest), computes each SloStatus, keeps the latest in memory for the
 * gate and the API, and persists them. Each tick evaluates at the wall time it runs; how old a status is comes
 * from the monotonic clock, so wall-clock steps do not make a fresh status stale or an old one fresh (see
 * isStale). Until the first evaluation of this process ends, the statuses the last run stored stand in.
 */
export class SloEvaluator {
  private latest = new Map<string, SloStatus>();
  /** performance.now() when each status of this process was evaluated; statuses loaded at start have none. */
  private readonly evaluatedMonotonic = new WeakMap<SloStatus, number>();
  private ticking: RepeatingJob | undefined;
  /** Ticks run one after another: a tick yields between slices, and a reload's tick must not interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  private evaluatedOnce = false;
  /** Asked in order: the first that reads an SLO supplies its counts; the store, last, reads every SLO. */
  private readonly sources: CountsSource[];
  private readonly listeners: Array<EvaluationListener> = [];
  private corrections: () => readonly Correction[] = () => [];
  private prepare: () => Promise<void> = () => Promise.resolve();

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

  /** Evaluates every SLO at once, holding the event loop (tests, benches); the service ticks in slices. */
  evaluateAll(nowMs = Date.now()): SloStatus[] {
    const startedAt = performance.now();
    const definitions = this.definitions.registry.definitions;
    const results: SloStatus[] = [];
    if (definitions.length > 0)
      this.evaluateSlice(definitions, 0, nowMs, this.corrections(), results, Number.POSITIVE_INFINITY);
    this.statuses.saveAll(results);
    const latest = new Map<string, SloStatus>();
    runWhole(this.indexed(results, latest, startedAt));
    const durationMs = this.makeCurrent(latest, startedAt);
    for (const listener of this.listeners) runWhole(listener(results, durationMs));
    return results;
  }

  /**
   * Evaluates definitions from `from` on, into `results`, until the slice's time is up (at least one);
   * returns where the next slice starts. Every source's pass wraps the slice.
   */
  private evaluateSlice(
    definitions: readonly SloDefinition[],
    from: number,
    nowMs: number,
    corrections: readonly Correction[],
    results: SloStatus[],
    sliceMs: number,
  ): number {
    const endsAt = performance.now() + sliceMs;
    const evaluateEach = () => {
      let next = from;
      do {
        const definition = definitions[next]!;
        const source = this.sources.find((candidate) => candidate.reads(definition))!;
        results.push(this.evaluate(definition, source.read(definition, nowMs, corrections), nowMs));
        next += 1;
      } while (next < definitions.length && performance.now() < endsAt);
      return next;
    };
    return this.sources.reduce<() => number>((reads, source) => () => source.readPass(reads), evaluateEach)();
  }

  /**
   * Indexes an evaluation's statuses by name into `latest`, a status a step (10,000 held the loop 2-5 ms in one
   * piece); none of them is current before makeCurrent.
   */
  private *indexed(
    results: readonly SloStatus[],
    latest: Map<string, SloStatus>,
    startedAt: number,
  ): SteppedWork {
    for (const status of results) {
      latest.set(status.name, status);
      this.evaluatedMonotonic.set(status, startedAt);
      yield;
    }
  }

  /** Makes an evaluation's statuses (saved, indexed) the latest, all at once; returns how long it took. */
  private makeCurrent(latest: Map<string, SloStatus>, startedAt: number): number {
    this.latest = latest;
    this.evaluatedOnce = true;
    return performance.now() - startedAt;
  }

  /**
   * Calls `listener` with every evaluation's statuses and how long it took, once they are saved and current. It
   * runs in one piece: for work that takes more than a slice at 10,000 SLOs, use onEvaluatedInSteps.
   */
  onEvaluated(listener: (statuses: readonly SloStatus[], durationMs: number) => void): void {
    // biome-ignore lint/correctness/useYield: a listener in one piece is work of one step, run when the tick comes to it.
    this.listeners.push(function* whole(statuses, durationMs) {
      listener(statuses, durationMs);
    });
  }

  /**
   * Like onEvaluated, for a listener given as steps (alerting and the gate's freezes): a tick runs them in
   * slices of EVALUATION_SLICE_MS, and the service may run between two steps (a gate request, a reload).
   */
  onEvaluatedInSteps(listener: EvaluationListener): void {
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

  /**
   * What each tick awaits before it reads its corrections (a replica copies the shared ones there); it must
   * settle within a bound of its own and not reject, since the tick waits on it.
   */
  beforeEachTick(prepare: () => Promise<void>): void {
    this.prepare = prepare;
  }

  /** Adds a source of counts outside the store (a Prometheus-compatible engine), asked before the store. */
  addSource(source: CountsSource): void {
    this.sources.splice(this.sources.length - 1, 0, source);
  }

  /** Whether this process has finished an evaluation (until then, the statuses are the last run's). */
  get hasEvaluated(): boolean {
    return this.evaluatedOnce;
  }

  /** A status the last run stored, loaded at start and not yet replaced by an evaluation of this process. */
  isFromLastRun(status: SloStatus): boolean {
    return !this.evaluatedMonotonic.has(status);
  }

  /**
   * Whether the gate may judge a status of the last run on its numbers: its source had not failed, it is not
   * from the future, and it is no older than LAST_RUN_TRUSTED_MS (or two intervals). Otherwise it is stale.
   */
  isTrustedFromLastRun(status: SloStatus, nowMs = Date.now()): boolean {
    const ageMs = nowMs - status.evaluatedAtMs;
    return (
      this.isFromLastRun(status) &&
      status.staleReason === undefined &&
      ageMs >= 0 &&
      ageMs <= Math.max(LAST_RUN_TRUSTED_MS, 2 * this.intervalMs)
    );
  }

  /**
   * One tick: asks the sources for what they need (bounded by their timeouts), then evaluates every SLO and
   * saves the statuses in slices of EVALUATION_SLICE_MS, yielding to the event loop between them, so the gate
   * and ingest keep answering during a 10,000-SLO evaluation. The statuses change at once when the last slice is done,
   * then the listeners run, sliced the same way at their steps. Ticks
   * queue behind one under way; `nowMs` (default: when the tick begins) is the time evaluated.
   */
  tick(nowMs?: number): Promise<SloStatus[]> {
    const run = this.queue.then(() => this.tickNow(nowMs ?? Date.now()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async tickNow(nowMs: number): Promise<SloStatus[]> {
    await this.prepare();
    const definitions = this.definitions.registry.definitions;
    const corrections = this.corrections();
    await Promise.all(this.sources.map((source) => source.refresh(definitions, nowMs, corrections)));
    const startedAt = performance.now();
    const results: SloStatus[] = [];
    let next = 0;
    while (next < definitions.length) {
      if (next > 0) await nextTurn();
      next = this.evaluateSlice(definitions, next, nowMs, corrections, results, EVALUATION_SLICE_MS);
    }
    // Saved in slices too: 10,000 statuses in one transaction held the loop for 200–400 ms. A restart during
    // the save finds some statuses of this tick and some of the last, each whole. Like the evaluation, it
    // yields only between slices: a tick that fits in one slice completes in the turn it began.
    let saved = this.statuses.saveFrom(results, 0, performance.now() + EVALUATION_SLICE_MS);
    while (saved < results.length) {
      await nextTurn();
      saved = this.statuses.saveFrom(results, saved, performance.now() + EVALUATION_SLICE_MS);
    }
    const latest = new Map<string, SloStatus>();
    let sliceEndsAt = await runInSlices(
      this.indexed(results, latest, startedAt),
      EVALUATION_SLICE_MS,
      performance.now() + EVALUATION_SLICE_MS,
    );
    const durationMs = this.makeCurrent(latest, startedAt);
    // The listeners in slices too, split inside themselves at their steps: they held the loop 9-80 ms each at
    // 10,000 SLOs when a listener ran in one piece (docs/benchmarks.md). A small tick still completes in the turn
    // it began. The tick resolves after the last step of the last listener, so the next tick never overlaps them.
    for (const listener of this.listeners)
      sliceEndsAt = await runInSlices(listener(results, durationMs), EVALUATION_SLICE_MS, sliceEndsAt);
    return results;
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
