/**
 * A replica's outbox sender as its own process, for the test that kills one mid-send
 * (test/integration/pg-alert-outbox.test.ts): `node --import tsx pgAlertSender.ts <postgres url> <target url>
 * <send timeout ms>` drains the shared outbox once, sending every target's messages to the one URL.
 */
import { OutboxDispatcher } from '../../src/alert/outbox.js';
import { ControlDatabase } from '../../src/control/database.js';
import { PostgresOutbox } from '../../src/control/outbox.js';
import { quietLog } from './cleanups.js';

const [url, targetUrl, timeout] = process.argv.slice(2);
const db = new ControlDatabase(
  { url: url!, poolSize: 2, statementTimeoutMs: 5_000, connectTimeoutMs: 5_000, leaseCheckMs: 1_000 },
  quietLog,
);
const outbox = new PostgresOutbox(db);
const targets = new Map(
  (await outbox.pendingTargets()).map((name) => [name, { name, kind: 'slack' as const, url: targetUrl! }]),
);
const dispatcher = new OutboxDispatcher(
  outbox,
  { targets, giveUpAfterMs: 3_600_000, retryBackoffMs: 1_000, maxRetryBackoffMs: 8_000 },
  quietLog,
  { timeoutMs: Number(timeout) },
);
await dispatcher.drain();
await db.close();
