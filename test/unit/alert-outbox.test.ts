import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AlertLog, OutboxDispatcher } from '../../src/alert/outbox.js';
import { retryAfterMs, send } from '../../src/alert/send.js';
import type { NotificationTarget } from '../../src/config/notifications.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { OutboxStore } from '../../src/store/outbox.js';
import { freePort } from '../helpers/ports.js';

const SECRET_URL = 'https://hooks.example.com/services/T0/B0/very-secret';

function target(name: string, url = `${SECRET_URL}/${name}`): [string, NotificationTarget] {
  return [name, { name, kind: 'slack', url }];
}

describe('OutboxDispatcher', () => {
  let db: Db;
  let store: OutboxStore;
  let clock: number;
  let log: AlertLog & { lines: Array<{ level: string; object: object; message: string }> };
  let replies: Map<string, Array<() => Response | Promise<Response>>>;
  let calls: Array<{ target: string; body: unknown; at: number }>;
  let gaveUp: string[];

  const fetchStub = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const name = String(url).split('/').pop()!;
    calls.push({ target: name, body: JSON.parse(String(init?.body)), at: clock });
    const next = replies.get(name)?.shift();
    return next ? next() : new Response('ok');
  });

  function dispatcher(names: string[], settings = {}) {
    return new OutboxDispatcher(
      store,
      {
        targets: new Map(names.map((name) => target(name))),
        giveUpAfterMs: 3_600_000,
        retryBackoffMs: 1_000,
        maxRetryBackoffMs: 8_000,
        ...settings,
      },
      log,
      { fetch: fetchStub as typeof fetch, now: () => clock, onGiveUp: (name) => gaveUp.push(name) },
    );
  }

  beforeEach(() => {
    db = openDatabase(':memory:');
    store = new OutboxStore(db);
    clock = 1_000_000;
    replies = new Map();
    calls = [];
    gaveUp = [];
    const lines: Array<{ level: string; object: object; message: string }> = [];
    log = {
      lines,
      info: (object, message) => lines.push({ level: 'info', object, message }),
      warn: (object, message) => lines.push({ level: 'warn', object, message }),
      error: (object, message) => lines.push({ level: 'error', object, message }),
    };
    fetchStub.mockClear();
  });
  afterEach(() => db.close());

  it('retries a 503 no sooner than its Retry-After, then delivers it exactly once', async () => {
    replies.set('a', [() => new Response('busy', { status: 503, headers: { 'retry-after': '30' } })]);
    store.enqueue('a', 'first', { body: { n: 1 } }, clock);
    const outbox = dispatcher(['a']);
    await outbox.drain();
    expect(store.list('pending')[0]).toMatchObject({
      attempts: 1,
      nextAttemptMs: clock + 30_000,
      lastError: 'HTTP 503: busy',
    });
    clock += 29_999;
    await outbox.drain();
    expect(calls).toHaveLength(1);
    clock += 1;
    await outbox.drain();
    await outbox.drain();
    expect(calls.map((c) => c.at)).toEqual([1_000_000, 1_030_000]);
    expect(store.list('delivered')).toHaveLength(1);
    expect(store.list('pending')).toHaveLength(0);
  });

  it('backs off exponentially without Retry-After, up to the maximum', async () => {
    replies.set(
      'a',
      Array.from({ length: 6 }, () => () => new Response('', { status: 502 })),
    );
    store.enqueue('a', 'm', { body: {} }, clock);
    const outbox = dispatcher(['a']);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await outbox.drain();
      const next = store.list('pending')[0]!.nextAttemptMs;
      delays.push(next - clock);
      clock = next;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('retries 429 and keeps a target in order: the second message waits for the first', async () => {
    replies.set('a', [() => new Response('slow down', { status: 429, headers: { 'retry-after': '5' } })]);
    store.enqueue('a', 'first', { body: { n: 1 } }, clock);
    store.enqueue('a', 'second', { body: { n: 2 } }, clock);
    const outbox = dispatcher(['a']);
    await outbox.drain();
    expect(calls.map((c) => c.body)).toEqual([{ n: 1 }]);
    clock += 5_000;
    await outbox.drain();
    expect(calls.map((c) => c.body)).toEqual([{ n: 1 }, { n: 1 }, { n: 2 }]);
  });

  it('lets other targets deliver while one keeps failing', async () => {
    replies.set(
      'broken',
      Array.from({ length: 10 }, () => () => new Response('', { status: 500 })),
    );
    store.enqueue('broken', 'b', { body: { to: 'broken' } }, clock);
    store.enqueue('fine', 'f', { body: { to: 'fine' } }, clock);
    await dispatcher(['broken', 'fine']).drain();
    expect(store.list('delivered').map((entry) => entry.target)).toEqual(['fine']);
    expect(store.list('pending').map((entry) => entry.target)).toEqual(['broken']);
  });

  it('gives up after the configured age, logging and counting the failure without the URL', async () => {
    replies.set(
      'a',
      Array.from({ length: 20 }, () => () => new Response('', { status: 503 })),
    );
    store.enqueue('a', 'profile-availability firing critical', { body: {} }, clock);
    const outbox = dispatcher(['a'], { giveUpAfterMs: 10_000 });
    for (let i = 0; i < 10 && store.list('pending').length > 0; i++) {
      await outbox.drain();
      clock = Math.max(clock, store.list('pending')[0]?.nextAttemptMs ?? clock);
    }
    expect(store.list('failed')).toMatchObject([
      { target: 'a', subject: 'profile-availability firing critical' },
    ]);
    expect(gaveUp).toEqual(['a']);
    const failure = log.lines.find((line) => line.message === 'notification given up');
    expect(failure?.level).toBe('error');
    expect(JSON.stringify(log.lines)).not.toContain('very-secret');
  });

  it('gives up at once on a 4xx that is not 408 or 429 (a wrong URL will not heal)', async () => {
    replies.set('a', [() => new Response('invalid_token', { status: 403 })]);
    store.enqueue('a', 'm', { body: {} }, clock);
    await dispatcher(['a']).drain();
    expect(store.list('failed')).toMatchObject([{ lastError: 'HTTP 403: invalid_token', attempts: 1 }]);
    expect(gaveUp).toEqual(['a']);
  });

  it('sends nothing once stopped: the queue waits for the next start', async () => {
    const outbox = dispatcher(['a']);
    await outbox.stop();
    store.enqueue('a', 'm', { body: {} }, clock);
    outbox.wake();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([]);
    expect(store.list('pending')).toHaveLength(1);
  });

  it('drops messages for a target no longer configured, and prunes finished ones after a week', async () => {
    store.enqueue('gone', 'm', { body: {} }, clock);
    const outbox = dispatcher(['a']);
    await outbox.drain();
    expect(store.list('failed')).toMatchObject([
      { target: 'gone', lastError: 'the target is no longer configured' },
    ]);
    clock += 8 * 86_400_000;
    expect(outbox.prune()).toBe(1);
  });
});

describe('send', () => {
  it('reports a refused connection as retryable, naming no URL', async () => {
    const port = await freePort();
    const result = await send(
      `http://127.0.0.1:${port}/hooks/very-secret`,
      { body: {} },
      // A refusal comes at once; a busy machine must not turn it into a timeout.
      { timeoutMs: 30_000 },
    );
    expect(result).toEqual({ outcome: 'retry', reason: 'network error (ECONNREFUSED)' });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 10, 23, 10, 0, 0);
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Mon, 23 Nov 2026 10:01:30 GMT', now)).toBe(90_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
