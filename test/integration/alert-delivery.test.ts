import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxStore } from '../../src/store/outbox.js';
import {
  chatNotifications,
  describeMessage,
  ingest,
  startAlertingSloguard,
  ticks,
  type WebhookBody,
} from '../helpers/alertScenario.js';
import { CaptureServer } from '../helpers/capture.js';
import type { SloguardProcess } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

const described = (capture: CaptureServer) => capture.accepted().map(describeMessage);

/** Messages still waiting in a running sloguard's outbox (read-only, beside the process). */
function pending(databasePath: string): number {
  const db = new Database(databasePath, { readonly: true });
  try {
    return new OutboxStore(db).list('pending').length;
  } finally {
    db.close();
  }
}

describe('alerts from ingested traffic, through the outbox to a webhook', () => {
  let capture: CaptureServer;
  let cleanups: Array<() => Promise<void>>;

  beforeEach(async () => {
    capture = await CaptureServer.start();
    cleanups = [];
  });
  afterEach(async () => {
    for (const cleanup of cleanups) await cleanup();
    await capture.stop();
  });

  it('pages once, escalates ticket → page, repeats after the interval and resolves once', async () => {
    const { service, cleanup } = await startAlertingSloguard(chatNotifications(capture.url, '5s'));
    cleanups.push(cleanup);

    await ingest(service, 96, 4); // 4% errors: 4× burn, the ticket tiers fire
    await waitFor('the ticket', () => capture.accepted().length >= 1);
    await ticks(service, 3);
    expect(described(capture)).toEqual(['firing warning']);

    await ingest(service, 70, 30); // 34 of 200 fail: 17× burn, above the page's 14×
    await waitFor('the escalation', () => capture.accepted().length >= 2);
    await ticks(service, 2);
    expect(described(capture)).toEqual(['firing warning', 'escalated critical']);

    await waitFor('the repeat', () => capture.accepted().length >= 3);
    const [, escalated, repeated] = capture.accepted();
    expect(describeMessage(repeated!)).toBe('repeat critical');
    expect(repeated!.atMs - escalated!.atMs).toBeGreaterThanOrEqual(4_000);

    await ingest(service, 4000, 0); // 34 of 4200: 0.81× burn, budget left: every tier stops
    await waitFor('the resolve', () => described(capture).includes('resolved critical'));
    const count = capture.accepted().length;
    await ticks(service, 3);
    const messages = described(capture);
    expect(messages).toHaveLength(count);
    expect(messages.filter((m) => m === 'resolved critical')).toHaveLength(1);
    expect(messages.at(-1)).toBe('resolved critical');
    expect(messages.slice(0, 2)).toEqual(['firing warning', 'escalated critical']);
    expect(new Set(messages.slice(2, -1))).toEqual(new Set(['repeat critical']));
    const body = capture.accepted()[0]!.body as WebhookBody;
    expect(body.receiver).toBe('chat');
    expect(body.alerts[0]!.labels).toMatchObject({ slo: 'shop-availability', service: 'shop', team: 'shop' });
    expect(capture.requests.every((r) => r.path === '/hooks/chat')).toBe(true);
  }, 180_000);

  /** A receiver down (503), a ticket retried, then a page queued behind it in the outbox. */
  async function burnDuringOutage(retryAfter?: string) {
    capture.respond(() => ({ status: 503, ...(retryAfter && { headers: { 'retry-after': retryAfter } }) }));
    const started = await startAlertingSloguard(chatNotifications(capture.url, '1h'));
    cleanups.push(started.cleanup);
    await ingest(started.service, 96, 4);
    await waitFor('retries of the ticket', () => capture.requests.length >= 2);
    await ingest(started.service, 70, 30);
    await waitFor('the page queued behind the ticket', () => pending(started.service.databasePath) === 2);
    return started.service;
  }

  /** Ends the outage, resolves the burn, and checks every message arrived exactly once and in order. */
  async function endOutageAndResolve(service: SloguardProcess): Promise<void> {
    await ticks(service, 2);
    expect(capture.accepted()).toHaveLength(0);
    capture.respond(() => ({ status: 200 }));
    await waitFor('both queued messages', () => capture.accepted().length >= 2);
    await ingest(service, 4000, 0);
    await waitFor('the resolve', () => capture.accepted().length >= 3);
    await ticks(service, 3);
    expect(described(capture)).toEqual(['firing warning', 'escalated critical', 'resolved critical']);
    expect(new Set(capture.accepted().map((request) => JSON.stringify(request.body))).size).toBe(3);
  }

  it('delivers each message exactly once to a receiver that answers 503 for a while', async () => {
    const service = await burnDuringOutage('1');
    await endOutageAndResolve(service);
  }, 180_000);

  it('delivers each message exactly once when sloguard is killed and restarted mid-outage', async () => {
    const service = await burnDuringOutage();
    await service.stop('SIGKILL');
    await service.restart();
    await endOutageAndResolve(service);
  }, 180_000);
});
