/** A caller waiting on a commit. */
interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Queued<T> {
  item: T;
  weight: number;
  caller?: Waiter;
}

/** What became of one queued item: committed, or the error its commit failed with. */
type Outcome = { committed: true } | { committed: false; error: unknown };

const COMMITTED: Outcome = { committed: true };

/** Items of one flush, committed slice by slice; their callers answered as each slice commits. */
interface Round<T> {
  queue: Queued<T>[];
  /** Index of the first item not yet committed. */
  next: number;
  /** Callers of `committed()`, answered once the whole round is done. */
  waiters: Waiter[];
  failure: Outcome;
}

/** How fast the estimate of a slice's cost per item follows the last slice: a weight on the newest figure. */
const COST_SMOOTHING = 0.3;

/**
 * Group commit: items queued in one turn of the event loop are written together by `write` (one transaction)
 * on the next turn, and each caller is answered only after that commit, so an acknowledged write is on disk
 * while one transaction per item would cost more than the work itself. With `spacingMs`, a group that follows
 * the last commit sooner than that waits out the rest of it, gathering the items of several turns: under a
 * steady stream of items a commit carries many (a lone item still commits on the next turn). With `sliceMs`,
 * a group is written in slices of whole items, each its own transaction sized from the time the last slices
 * took per item to stay within `sliceMs`, the event loop turning between them: a backlog never holds the loop
 * (and every request waiting on it) for longer than about one slice, and an item is never split between
 * transactions. A failed group fails only the callers of its items; when `retryAlone(error)` says the fault
 * may be one item's, each item of the group is written again on its own so the others still commit. Nothing
 * queued is kept after a flush, committed or not: a failure leaves no stale state behind, and a caller who
 * wants the item written again submits it again.
 */
export class BatchedCommit<T> {
  private queue: Queued<T>[] = [];
  /** Callers of `committed()`, waiting on everything queued when they asked. */
  private waiters: Waiter[] = [];
  private weight = 0;
  /** The flush under way, when its slices span several turns of the event loop. */
  private round: Round<T> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** performance.now() at the end of the last commit. */
  private lastCommitMs = Number.NEGATIVE_INFINITY;
  /** The last slices' time per item in ms, smoothed; unknown before the first slice. */
  private msPerItem: number | undefined;

  constructor(
    private readonly write: (items: readonly T[]) => void,
    private readonly retryAlone: (error: unknown) => boolean = () => false,
    private readonly spacingMs = 0,
    private readonly sliceMs = Number.POSITIVE_INFINITY,
  ) {}

  /** The summed weight of the items waiting for their commit (e.g. observations). */
  get waiting(): number {
    return this.weight;
  }

  /** Queues an item; resolves once it is committed, rejects with the error its commit failed with. */
  submit(item: T, weight = 1): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ item, weight, caller: { resolve, reject } }));
  }

  /** Queues an item whose outcome is heard through `committed()` or `flush()`. */
  add(item: T, weight = 1): void {
    this.enqueue({ item, weight });
  }

  /** Resolves once everything queued so far is committed; rejects with the first failure among it. */
  committed(): Promise<void> {
    const waiters = this.queue.length > 0 ? this.waiters : this.round?.waiters;
    if (!waiters) return Promise.resolve();
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /** Commits everything queued now and answers its callers; returns the first failure, undefined if none. */
  flush(): unknown {
    this.unschedule();
    let failure: unknown;
    for (const round of [this.round ?? this.takeRound(), this.takeRound()]) {
      this.round = round;
      this.commitSlice(round, Number.POSITIVE_INFINITY);
      const error = this.finishRound(round);
      failure ??= error;
    }
    return failure;
  }

  private enqueue(queued: Queued<T>): void {
    this.queue.push(queued);
    this.weight += queued.weight;
    if (!this.round) this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.immediate) return;
    // step() answers every caller and never throws: nothing may throw out of the event loop.
    const wait = this.lastCommitMs + this.spacingMs - performance.now();
    if (wait >= 1) this.timer = setTimeout(() => this.step(), wait);
    else this.immediate = setImmediate(() => this.step());
  }

  private unschedule(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Commits the next slice of the round under way (a new round takes everything queued). */
  private step(): void {
    this.timer = undefined;
    this.immediate = undefined;
    this.round ??= this.takeRound();
    const round = this.round;
    this.commitSlice(round, this.sliceItems());
    if (round.next < round.queue.length) this.immediate = setImmediate(() => this.step());
    else {
      this.finishRound(round);
      if (this.queue.length > 0) this.schedule();
    }
  }

  private takeRound(): Round<T> {
    const round = { queue: this.queue, next: 0, waiters: this.waiters, failure: COMMITTED };
    this.queue = [];
    this.waiters = [];
    return round;
  }

  /** Items the next slice may hold: as many as the last slices' cost per item fits in `sliceMs`, at least one. */
  private sliceItems(): number {
    if (this.sliceMs === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    if (this.msPerItem === undefined) return 1;
    return Math.max(1, Math.floor(this.sliceMs / this.msPerItem));
  }

  /** Commits up to `items` of the round's items in one transaction and answers their callers. */
  private commitSlice(round: Round<T>, items: number): void {
    const slice = round.queue.slice(round.next, round.next + items);
    if (slice.length === 0) return;
    round.next += slice.length;
    const started = performance.now();
    const outcomes = this.commit(slice.map((queued) => queued.item));
    this.lastCommitMs = performance.now();
    const perItem = (this.lastCommitMs - started) / slice.length;
    this.msPerItem =
      this.msPerItem === undefined ? perItem : this.msPerItem + COST_SMOOTHING * (perItem - this.msPerItem);
    for (const [index, { weight, caller }] of slice.entries()) {
      this.weight -= weight;
      const outcome = outcomes[index]!;
      if (outcome.committed) caller?.resolve();
      else {
        caller?.reject(outcome.error);
        if (round.failure.committed) round.failure = outcome;
      }
    }
  }

  /** Answers the round's waiters; returns its first failure, undefined if none. */
  private finishRound(round: Round<T>): unknown {
    this.round = undefined;
    const { failure } = round;
    for (const waiter of round.waiters) {
      if (failure.committed) waiter.resolve();
      else waiter.reject(failure.error);
    }
    return failure.committed ? undefined : failure.error;
  }

  private commit(items: readonly T[]): Outcome[] {
    if (items.length === 0) return [];
    try {
      this.write(items);
      return items.map(() => COMMITTED);
    } catch (error) {
      if (items.length === 1 || !this.retryAlone(error))
        return items.map(() => ({ committed: false, error }));
      return items.map((item) => this.commit([item])[0]!);
    }
  }
}
