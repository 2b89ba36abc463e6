import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutboxDispatcher } from '../../src/alert/outbox.js';
import type { NotificationTarget } from '../../src/config/notifications.js';
import { ControlDatabase } from '../../src/control/database.js';
import { PostgresOutbox } from '../../src/control/outbox.js';
import { CaptureServer } from '../helpers/capture.js';
import { cleanupsAfterEach, quietLog } from '../helpers/cleanups.js';
import { controlPostgresSuite, hasPostgres } from '../helpers/postgres.js';
import { stopChild } from '../helpers/process.js';
import { ROOT } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

const TARGETS = ['ops', 'payments'];
const MESSAGES = 25;

const cleanups = cleanupsAfterEach();

/** A receiver that takes a request and never answers: a send under way when its sender is killed. */
async function blackHole(): Promise<{ url: string; received: () => number; stop: () => Promise<void> }> {
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((request) => {
    request.resume();
    seen.push(request);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => seen.length,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe.runIf(hasPostgres())('the outbox in PostgreSQL', () => {
  const suite = controlPostgresSuite({ timeoutMs: 10_000, leaseCheckMs: 500, migrate: true });

  /** A replica's sender: its own pool on the shared database, its own dispatcher, every target to `url`. */
  function replica(url: string, timeoutMs = 30_000) {
    const db = new ControlDatabase(suite.settings, quietLog);
    cleanups.push(() => db.close());
    const outbox = new PostgresOutbox(db);
    const targets = new Map<string, NotificationTarget>(
      TARGETS.map((name) => [name, { name, kind: 'slack', url: `${url}/${name}` }]),
    );
    const dispatcher = new OutboxDispatcher(
      outbox,
      { targets, giveUpAfterMs: 3_600_000, retryBackoffMs: 10, maxRetryBackoffMs: 50 },
      quietLog,
      { timeoutMs },
    );
    return { outbox, dispatcher };
  }

  async function capture(): Promise<CaptureServer> {
    const server = await CaptureServer.start();
    cleanups.push(() => server.stop());
    return server;
  }

  it('two dispatchers on two pools send every message exactly once, in order per target', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_outbox');
    const receiver = await capture();
    const first = replica(receiver.url);
    const second = replica(receiver.url);
    for (let n = 0; n < MESSAGES; n++)
      for (const target of TARGETS)
        await first.outbox.enqueue(target, `m${n}`, { body: { target, n } }, Date.now());
    // Both drain at once, again and again, as two replicas polling the same outbox do.
    await waitFor('every message delivered', async () => {
      await Promise.all([first.dispatcher.drain(), second.dispatcher.drain()]);
      return (await first.outbox.list('pending')).length === 0;
    });
    const delivered = receiver.accepted().map((request) => request.body as { target: string; n: number });
    expect(delivered).toHaveLength(TARGETS.length * MESSAGES);
    for (const target of TARGETS)
      expect(delivered.filter((body) => body.target === target).map((body) => body.n)).toEqual(
        Array.from({ length: MESSAGES }, (_, n) => n),
      );
    expect(await second.outbox.list('delivered')).toHaveLength(TARGETS.length * MESSAGES);
  });

  it('keeps the SQLite outbox semantics: Retry-After, then delivery; a 4xx given up', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_outbox');
    const receiver = await capture();
    let busy = true;
    receiver.respond(({ path }) => {
      if (path === '/payments') return { status: 400 };
      return busy ? { status: 503, headers: { 'retry-after': '30' } } : { status: 200 };
    });
    const { outbox, dispatcher } = replica(receiver.url);
    await outbox.enqueue('ops', 'first', { body: { n: 1 } }, Date.now());
    await outbox.enqueue('payments', 'refused', { body: { n: 2 } }, Date.now());
    const before = Date.now();
    await dispatcher.drain();
    const [waiting] = await outbox.list('pending');
    expect(waiting).toMatchObject({ target: 'ops', attempts: 1, lastError: 'HTTP 503: unavailable' });
    expect(waiting!.nextAttemptMs).toBeGreaterThanOrEqual(before + 30_000);
    expect(await outbox.list('failed')).toMatchObject([{ target: 'payments', attempts: 1 }]);
    busy = false;
    await dispatcher.drain();
    expect(receiver.requests.filter((request) => request.path === '/ops')).toHaveLength(1);
    await suite.postgres.query('sloguard', 'UPDATE control_outbox SET next_attempt_ms = 0');
    await dispatcher.drain();
    expect(await outbox.list('delivered')).toMatchObject([{ target: 'ops', attempts: 2 }]);
    expect(receiver.accepted()).toHaveLength(1);
  });

  it('a dispatcher killed mid-send: the other sends the message once, after the claim runs out', async () => {
    await suite.postgres.query('sloguard', 'TRUNCATE control_outbox');
    const receiver = await capture();
    const hole = await blackHole();
    cleanups.push(() => hole.stop());
    const survivor = replica(receiver.url);
    await survivor.outbox.enqueue('ops', 'orphan', { body: { target: 'ops', n: 0 } }, Date.now());
    // The doomed sender's send times out after 3 s, so its claim holds 18 s (six send timeouts).
    const doomed = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test/helpers/pgAlertSender.ts'), suite.postgres.url, hole.url, '3000'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanups.push(() => stopChild(doomed, 'SIGKILL').then(() => undefined));
    await waitFor('the doomed sender mid-send', () => hole.received() === 1);
    await stopChild(doomed, 'SIGKILL');
    const [claimed] = (
      await suite.postgres.query(
        'sloguard',
        'SELECT claim_owner, claim_until_ms, attempts FROM control_outbox',
      )
    ).rows as Array<{ claim_owner: string | null; claim_until_ms: string; attempts: number }>;
    // Killed before its send timed out: the claim is still its own, no attempt recorded.
    expect(claimed).toMatchObject({ attempts: 0 });
    expect(claimed!.claim_owner).not.toBeNull();
    const claimUntilMs = Number(claimed!.claim_until_ms);
    expect(claimUntilMs).toBeGreaterThan(Date.now());
    await survivor.dispatcher.drain();
    expect(receiver.requests).toHaveLength(0);
    await waitFor(
      'the orphan delivered by the survivor',
      async () => {
        await survivor.dispatcher.drain();
        return receiver.accepted().length > 0;
      },
      { intervalMs: 200 },
    );
    expect(receiver.accepted()).toHaveLength(1);
    expect(receiver.accepted()[0]!.atMs).toBeGreaterThanOrEqual(claimUntilMs);
    await survivor.dispatcher.drain();
    expect(receiver.requests).toHaveLength(1);
    expect(await survivor.outbox.list('delivered')).toMatchObject([{ subject: 'orphan', attempts: 1 }]);
  });
});
