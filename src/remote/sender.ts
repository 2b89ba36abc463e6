import { readAnswerStart } from '../net/boundedBody.js';
import type { BufferedWrite, WriteBuffer } from './buffer.js';
import { REMOTE_WRITE_HEADERS } from './writeRequest.js';

/** What became of one attempt to deliver a write. */
export type SendOutcome = 'delivered' | 'refused' | 'retry';

/**
 * Remote write 1.0's rule: 2xx delivered; 5xx and 429 retried with backoff; any other 4xx refused for good
 * (retrying the same body cannot succeed), as is a redirect.
 */
export function outcomeOf(status: number): SendOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 429 || status >= 500) return 'retry';
  return 'refused';
}

export const MIN_BACKOFF_MS = 250;
export const MAX_BACKOFF_MS = 30_000;

export interface SenderEvents {
  /** A write is done with: delivered, or refused by the engine (with the status and the start of its answer). */
  onDone(
    outcome: 'delivered' | 'refused',
    write: BufferedWrite,
    detail: { status: number; answer: string },
  ): void;
  /** An attempt failed and will be retried after `backoffMs` (with the start of the engine's answer, if any). */
  onRetry(
    write: BufferedWrite,
    detail: { status?: number; answer?: string; error?: string; backoffMs: number },
  ): void;
}

/**
 * Drains the buffer in order, one write at a time: the oldest is sent until it is delivered or refused, so the
 * engine sees each series' samples in time order. Attempts back off exponentially (250 ms to 30 s); a new write
 * wakes an idle sender, never one backing off.
 */
export class RemoteWriteSender {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private idle = false;
  private inFlight: AbortController | undefined;

  constructor(
    private readonly buffer: WriteBuffer,
    private readonly target: { url: string; timeoutMs: number; token?: string },
    private readonly events: SenderEvents,
  ) {}

  start(): void {
    this.stopped = false;
    this.loop = this.run();
  }

  /** A write was buffered: an idle sender sends it now. */
  notify(): void {
    if (this.idle) this.wake?.();
  }

  /** Resolves once the buffer is empty, or after `withinMs`; false when writes are left. */
  async drained(withinMs: number): Promise<boolean> {
    if (this.loop === undefined) return this.buffer.writes === 0;
    const deadline = Date.now() + withinMs;
    while (this.buffer.writes > 0 && Date.now() < deadline && !this.stopped)
      await new Promise((resolve) => setTimeout(resolve, 20));
    return this.buffer.writes === 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.inFlight?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoffMs = MIN_BACKOFF_MS;
    while (!this.stopped) {
      const write = this.buffer.peek();
      if (!write) {
        await this.pause(undefined, true);
        continue;
      }
      const attempt = await this.send(write);
      if (this.stopped) return;
      if (attempt.outcome === 'retry') {
        this.events.onRetry(write, { ...attempt, backoffMs });
        await this.pause(backoffMs, false);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        continue;
      }
      backoffMs = MIN_BACKOFF_MS;
      this.buffer.remove(write.id);
      this.events.onDone(attempt.outcome, write, {
        status: attempt.status ?? 0,
        answer: attempt.answer ?? '',
      });
    }
  }

  private async send(
    write: BufferedWrite,
  ): Promise<{ outcome: SendOutcome; status?: number; answer?: string; error?: string }> {
    this.inFlight = new AbortController();
    const timer = setTimeout(() => this.inFlight?.abort(), this.target.timeoutMs);
    try {
      const response = await fetch(this.target.url, {
        method: 'POST',
        headers: {
          ...REMOTE_WRITE_HEADERS,
          'user-agent': 'sloguard-collector',
          ...(this.target.token && { authorization: `Bearer ${this.target.token}` }),
        },
        body: write.body,
        signal: this.inFlight.signal,
        redirect: 'manual',
      });
      const answer = await readAnswerStart(response);
      return { outcome: outcomeOf(response.status), status: response.status, answer };
    } catch (error) {
      return { outcome: 'retry', error: (error as Error).message };
    } finally {
      clearTimeout(timer);
      this.inFlight = undefined;
    }
  }

  private pause(ms: number | undefined, idle: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.idle = idle;
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.idle = false;
      this.wake = undefined;
    });
  }
}
