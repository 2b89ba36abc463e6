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

/**
 * Group commit: items queued in one turn of the event loop are written together by `write` (one transaction)
 * on the next turn, and each caller is answered only after that commit, so an acknowledged write is on disk
 * while one transaction per item would cost more than the work itself. With `spacingMs`, a group that follows
 * the last commit sooner than that waits out the rest of it, gathering the items of several turns: under a
 * steady stream of items a commit carries many (a lone item still commits on the next turn). A failed group fails only the callers
 * of its items; when `retryAlone(error)` says the fault may be one item's, each item of the group is written
 * again on its own so the others still commit. Nothing queued is kept after a flush, committed or not: a
 * failure leaves no stale state behind, and a caller who wants the item written again submits it again.
 */
export class BatchedCommit<T> {
  private queue: Queued<T>[] = [];
  /** Callers of `committed()`, waiting on everything queued when they asked. */
  private waiters: Waiter[] = [];
  private weight = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() at the end of the last commit. */
  private lastCommitMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly write: (items: readonly T[]) => void,
    private readonly retryAlone: (error: unknown) => boolean = () => false,
    private readonly spacingMs = 0,
  ) {}

  /** The summed weight of the items waiting for the next commit (e.g. observations). */
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
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Commits everything queued now and answers its callers; returns the first failure, undefined if none. */
  flush(): unknown {
    this.scheduled = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    const queue = this.queue;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    this.weight = 0;
    const outcomes = this.commit(queue.map((queued) => queued.item));
    if (queue.length > 0) this.lastCommitMs = performance.now();
    let failure: Outcome = COMMITTED;
    for (const [index, { caller }] of queue.entries()) {
      const outcome = outcomes[index]!;
      if (outcome.committed) caller?.resolve();
      else {
        caller?.reject(outcome.error);
        if (failure.committed) failure = outcome;
      }
    }
    for (const waiter of waiters) {
      if (failure.committed) waiter.resolve();
      else waiter.reject(failure.error);
    }
    return failure.committed ? undefined : failure.error;
  }

  private enqueue(queued: Queued<T>): void {
    this.queue.push(queued);
    this.weight += queued.weight;
    if (!this.scheduled) {
      this.scheduled = true;
      // flush() answers every caller and never throws: nothing may throw out of the event loop.
      const wait = this.lastCommitMs + this.spacingMs - performance.now();
      if (wait >= 1) this.timer = setTimeout(() => this.flush(), wait);
      else setImmediate(() => this.flush());
    }
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
