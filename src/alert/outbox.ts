import { randomUUID } from 'node:crypto';
import type { NotificationSettings } from '../config/notifications.js';
import { RepeatingJob } from '../repeatingJob.js';
import type { Awaitable, OutboxEntry, OutboxQueue } from '../store/outbox.js';
import { send } from './send.js';

/** The logger calls the dispatcher makes (pino's shape). Objects logged here never hold a target URL. */
export interface AlertLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface DispatcherOptions {
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
  /** Called once for every message given up (for the failure counter). */
  onGiveUp?: (target: string) => void;
  onDelivered?: (target: string) => void;
}

/** Keep finished messages this long for inspection, then prune them. */
const KEEP_FINISHED_MS = 7 * 86_400_000;

/** Default send timeout (send.ts); a claim outlives a send by this factor before another sender may take it. */
const DEFAULT_TIMEOUT_MS = 10_000;
const LEASE_PER_TIMEOUT = 6;

export type DispatcherSettings = Pick<
  NotificationSettings,
  'targets' | 'giveUpAfterMs' | 'retryBackoffMs' | 'maxRetryBackoffMs'
>;

/**
 * Sends the outbox. Each target is its own queue, oldest first: a target that fails waits with backoff
 * (or as long as its Retry-After asks) while the others go on. A message is marked delivered only after a
 * 2xx, so a crash between sending and marking can repeat that one message but never lose it; one that
 * is still undelivered after `giveUpAfterMs`, or refused with a 4xx, is dropped, logged and counted.
 *
 * Before sending, a message is claimed in the database for a lease (several send timeouts): a second sender on
 * the same database (another process) skips it, so no message goes out twice while its sender lives; a
 * sender that died leaves a claim that expires, and the message is sent by another.
 */
export class OutboxDispatcher {
  private readonly busy = new Map<string, Promise<void>>();
  private schedules: RepeatingJob[] = [];
  private stopped = false;
  private readonly now: () => number;
  /** This sender's name on its claims. */
  private readonly owner = randomUUID();
  private readonly leaseMs: number;

  constructor(
    private readonly store: OutboxQueue,
    private settings: DispatcherSettings,
    private readonly log: AlertLog,
    private readonly options: DispatcherOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.leaseMs = (options.timeoutMs ?? DEFAULT_TIMEOUT_MS) * LEASE_PER_TIMEOUT;
  }

  /** After a reload: the new targets and retry settings apply from the next send. */
  reconfigure(settings: DispatcherSettings): void {
    this.settings = settings;
  }

  /** Sends what is due now and every `pollMs` after, and prunes finished messages now and hourly. */
  start(pollMs = 1000): void {
    const failed = (what: string) => (error: unknown) =>
      this.log.error({ err: error }, `outbox ${what} failed`);
    // Started again after a stop when a replica regains the evaluator lease (docs/scaling.md).
    this.stopped = false;
    this.schedules = [
      new RepeatingJob(() => this.prune(), 3_600_000, failed('prune')),
      // A wake per poll, not a drain awaited: a target sending slowly or backing off holds no other target.
      new RepeatingJob(() => this.wake(), pollMs, failed('poll')),
    ];
    for (const schedule of this.schedules) schedule.start();
  }

  /** Stops polling and waits for the sends under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.schedules.map((schedule) => schedule.stop()));
    await Promise.allSettled(this.busy.values());
  }

  /** Looks at the outbox now (after new messages were written) instead of at the next poll. */
  wake(): void {
    // After stop the database is about to close; what is queued is sent after the next start.
    if (this.stopped) return;
    void this.drain().catch((error: unknown) => this.log.error({ err: error }, 'outbox drain failed'));
  }

  /** Sends what is due for every target, each target independently. */
  async drain(): Promise<void> {
    const targets = await this.store.pendingTargets();
    await Promise.all(targets.map((target) => this.drainTarget(target)));
  }

  private drainTarget(target: string): Promise<void> {
    const running = this.busy.get(target);
    if (running) return running;
    const work = this.sendDue(target).finally(() => this.busy.delete(target));
    this.busy.set(target, work);
    return work;
  }

  private async giveUp(entry: OutboxEntry, reason: string): Promise<void> {
    if (!(await this.store.failed(entry.id, this.owner, this.now(), reason))) return;
    this.options.onGiveUp?.(entry.target);
    this.log.error(
      { target: entry.target, subject: entry.subject, attempts: entry.attempts, reason },
      'notification given up',
    );
  }

  private async sendDue(name: string): Promise<void> {
    for (;;) {
      const head = await this.store.head(name);
      if (!head) return;
      const target = this.settings.targets.get(name);
      const expired = this.now() - head.createdAtMs >= this.settings.giveUpAfterMs;
      if (target && !expired && head.nextAttemptMs > this.now()) return;
      const entry = await this.store.claim(head.id, this.owner, this.now(), this.now() + this.leaseMs);
      // Another sender holds it: the target's later messages wait behind it, in order.
      if (!entry) return;
      if (!target) {
        await this.giveUp(entry, 'the target is no longer configured');
        continue;
      }
      if (expired) {
        await this.giveUp(entry, `not delivered within the give-up age (last: ${entry.lastError ?? 'none'})`);
        continue;
      }
      const result = await send(target.url, entry.request, {
        ...(this.options.fetch && { fetch: this.options.fetch }),
        ...(this.options.timeoutMs && { timeoutMs: this.options.timeoutMs }),
        nowMs: this.now(),
      });
      if (result.outcome === 'delivered') {
        if (!(await this.store.delivered(entry.id, this.owner, this.now()))) {
          this.log.warn(
            { target: name, subject: entry.subject },
            'notification sent after its claim expired',
          );
          return;
        }
        this.options.onDelivered?.(name);
        this.log.info(
          { target: name, subject: entry.subject, attempts: entry.attempts + 1 },
          'notification sent',
        );
        continue;
      }
      if (result.outcome === 'rejected') {
        await this.giveUp({ ...entry, attempts: entry.attempts + 1 }, result.reason);
        continue;
      }
      const backoff = Math.min(
        this.settings.maxRetryBackoffMs,
        this.settings.retryBackoffMs * 2 ** entry.attempts,
      );
      const delay = result.retryAfterMs ?? backoff;
      await this.store.retryLater(entry.id, this.owner, this.now() + delay, result.reason);
      this.log.warn(
        {
          target: name,
          subject: entry.subject,
          attempts: entry.attempts + 1,
          reason: result.reason,
          retryInMs: delay,
        },
        'notification failed, will retry',
      );
      return;
    }
  }

  /** Forgets messages finished a week ago. */
  prune(): Awaitable<number> {
    return this.store.prune(this.now() - KEEP_FINISHED_MS);
  }
}
