import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutboxDispatcher } from '../../src/alert/outbox.js';
import type { NotificationTarget } from '../../src/config/notifications.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { OutboxStore } from '../../src/store/outbox.js';
import { CaptureServer } from '../helpers/capture.js';
import { cleanupsAfterEach, quietLog } from '../helpers/cleanups.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const TARGETS = ['ops', 'payments'];
const MESSAGES = 25;

const cleanups = cleanupsAfterEach();

/** A sender as a second process would run it: its own connection to the database file, its own dispatcher. */
function sender(path: string, capture: CaptureServer) {
  const db: Db = openDatabase(path);
  const store = new OutboxStore(db);
  const targets = new Map<string, NotificationTarget>(
    TARGETS.map((name) => [name, { name, kind: 'slack', url: `${capture.url}/${name}` }]),
  );
  const dispatcher = new OutboxDispatcher(
    store,
    { targets, giveUpAfterMs: 3_600_000, retryBackoffMs: 10, maxRetryBackoffMs: 50 },
    quietLog,
    // A send cut short after the receiver took it would be sent again: room for a busy machine.
    { timeoutMs: 30_000 },
  );
  cleanups.push(() => {
    db.close();
  });
  return { store, dispatcher };
}

/** A capture chat server and the path of a fresh database file, both cleaned up after the test. */
async function receiverAndDatabase() {
  const dir = tempDir('sloguard-outbox-');
  cleanups.push(() => dir.cleanup());
  const capture = await CaptureServer.start();
  cleanups.push(() => capture.stop());
  return { capture, path: join(dir.path, 'sloguard.db') };
}

describe('outbox claims', () => {
  it('two senders on one database file deliver every message exactly once, in order per target', async () => {
    const { capture, path } = await receiverAndDatabase();
    const first = sender(path, capture);
    const second = sender(path, capture);
    for (let n = 0; n < MESSAGES; n++) {
      for (const target of TARGETS) first.store.enqueue(target, `m${n}`, { body: { target, n } }, Date.now());
    }
    // Both drain at once, again and again, as two processes polling the same outbox would.
    await waitFor('every message delivered', async () => {
      await Promise.all([first.dispatcher.drain(), second.dispatcher.drain()]);
      return first.store.list('pending').length === 0;
    });
    const delivered = capture.accepted().map((request) => request.body as { target: string; n: number });
    expect(delivered).toHaveLength(TARGETS.length * MESSAGES);
    for (const target of TARGETS) {
      expect(delivered.filter((body) => body.target === target).map((body) => body.n)).toEqual(
        Array.from({ length: MESSAGES }, (_, n) => n),
      );
    }
    expect(first.store.list('delivered')).toHaveLength(TARGETS.length * MESSAGES);
  });

  it('a claim left by a sender that died expires, and another sender delivers the message once', async () => {
    const { capture, path } = await receiverAndDatabase();
    const survivor = sender(path, capture);
    const nowMs = Date.now();
    survivor.store.enqueue('ops', 'orphan', { body: { target: 'ops', n: 0 } }, nowMs);
    const [orphan] = survivor.store.list('pending');
    expect(survivor.store.claim(orphan!.id, 'dead-sender', nowMs, nowMs + 60_000)).toBeDefined();
    await survivor.dispatcher.drain();
    expect(capture.requests).toHaveLength(0);
    // The dead sender's lease runs out: its claim no longer holds the message back.
    const db = openDatabase(path);
    cleanups.push(() => {
      db.close();
    });
    db.prepare('UPDATE alert_outbox SET claim_until_ms = ? WHERE id = ?').run(nowMs - 1, orphan!.id);
    await survivor.dispatcher.drain();
    expect(capture.accepted()).toHaveLength(1);
    expect(survivor.store.delivered(orphan!.id, 'dead-sender', Date.now())).toBe(false);
  });
});
