import { afterEach, describe, expect, it } from 'vitest';
import { type AlertLog, OutboxDispatcher } from '../../src/alert/outbox.js';
import { MAX_CLI_ANSWER_BYTES } from '../../src/cli/client.js';
import { EXIT } from '../../src/cli/exitCodes.js';
import { runGate } from '../../src/cli/gate.js';
import { ANSWER_DETAIL_BYTES } from '../../src/net/boundedBody.js';
import { WriteBuffer } from '../../src/remote/buffer.js';
import { RemoteWriteSender, type SenderEvents } from '../../src/remote/sender.js';
import { instantQuery, MAX_QUERY_ANSWER_BYTES, PromQlError } from '../../src/sources/promql/client.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { OutboxStore } from '../../src/store/outbox.js';
import { AnswerServer } from '../helpers/answerServer.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Answers from hostile or broken servers (docs/security.md, answers from other servers), each a real HTTP server
 * on 127.0.0.1: a 500 whose body never ends, an engine answering past the maximum, a character cut at the limit.
 * Senders are given a timeout of minutes, so only the bounded read can make them return within seconds.
 */

const LONG_TIMEOUT_MS = 300_000;
/** Far below LONG_TIMEOUT_MS, far above what a bounded read takes even on a loaded machine. */
const PROMPT_MS = 60_000;
/**
 * What the server may have written before the client's cancel closed the connection: the limit, the chunk that
 * crossed it and the sockets' buffers on both sides. Reading to the timeout at line rate writes gigabytes.
 */
const WRITTEN_AT_MOST = 32 * 1024 * 1024;

const servers: AnswerServer[] = [];
async function serve(answer: Parameters<typeof AnswerServer.start>[0]): Promise<AnswerServer> {
  const server = await AnswerServer.start(answer);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** A 500 whose body starts with the receiver's message and then never ends. */
const ENDLESS_500 = { status: 500, head: 'receiver overloaded: ', endless: true } as const;

/** A dispatcher of one webhook target, "ops", at the given address. */
const webhookDispatcher = (
  store: OutboxStore,
  url: string,
  log: AlertLog,
  options: ConstructorParameters<typeof OutboxDispatcher>[3],
): OutboxDispatcher =>
  new OutboxDispatcher(
    store,
    {
      targets: new Map([['ops', { name: 'ops', kind: 'webhook', url }]]),
      giveUpAfterMs: 3_600_000,
      retryBackoffMs: 1_000,
      maxRetryBackoffMs: 8_000,
    },
    log,
    options,
  );

describe('the remote-write sender against a receiver answering 500 with an endless body', () => {
  let buffer: WriteBuffer | undefined;
  let sender: RemoteWriteSender | undefined;
  afterEach(async () => {
    await sender?.stop();
    buffer?.close();
  });

  it('logs the start of the answer, closes the connection at once and retries the write as before', async () => {
    const engine = await serve(ENDLESS_500);
    buffer = new WriteBuffer(':memory:', 1024 * 1024);
    buffer.push(60_000, Buffer.from('a write'));
    const retries: Array<Parameters<SenderEvents['onRetry']>[1] & { atMs: number }> = [];
    const done: string[] = [];
    const startMs = Date.now();
    sender = new RemoteWriteSender(
      buffer,
      { url: `${engine.url}/api/v1/write`, timeoutMs: LONG_TIMEOUT_MS },
      {
        onDone: (outcome) => done.push(outcome),
        onRetry: (_write, detail) => retries.push({ ...detail, atMs: Date.now() }),
      },
    );
    sender.start();

    await waitFor('two attempts, both answered by the endless 500', () => retries.length >= 2);
    const first = retries[0]!;
    expect(first.atMs - startMs).toBeLessThan(PROMPT_MS);
    expect(first.status).toBe(500);
    expect(first.error).toBeUndefined();
    expect(first.answer).toMatch(/^receiver overloaded: x+…$/);
    expect(Buffer.byteLength(first.answer!.replace(/…$/, ''))).toBe(ANSWER_DETAIL_BYTES);
    await waitFor('the server to see both connections closed', () =>
      engine.answered.slice(0, 2).every((answered) => answered.closed),
    );
    for (const answered of engine.answered) expect(answered.bytesWritten).toBeLessThan(WRITTEN_AT_MOST);
    expect(buffer.writes).toBe(1);
    expect(done).toEqual([]);

    engine.answer = { status: 204, body: '' };
    await waitFor('the write delivered once the receiver answers 204', () => done.length === 1, {
      // The backoff doubles from 250 ms; a few attempts happened meanwhile.
      timeoutMs: 90_000,
    });
    expect(done).toEqual(['delivered']);
    expect(buffer.writes).toBe(0);
  });
});

describe('the alert sender against a chat service answering 500 with an endless body', () => {
  let db: Db | undefined;
  afterEach(() => db?.close());

  it('keeps the start of the answer as the reason, returns at once and retries the message as before', async () => {
    const chat = await serve(ENDLESS_500);
    db = openDatabase(':memory:');
    const store = new OutboxStore(db);
    let clock = 1_000_000;
    const warnings: Array<{ object: object; message: string }> = [];
    const log: AlertLog = {
      info: () => {},
      warn: (object, message) => warnings.push({ object, message }),
      error: () => {},
    };
    const outbox = webhookDispatcher(store, chat.url, log, { now: () => clock, timeoutMs: LONG_TIMEOUT_MS });
    store.enqueue('ops', 'checkout-availability firing page', { body: { text: 'page' } }, clock);

    const startMs = Date.now();
    await outbox.drain();
    expect(Date.now() - startMs).toBeLessThan(PROMPT_MS);
    const [pending] = store.list('pending');
    expect(pending).toMatchObject({ attempts: 1, nextAttemptMs: clock + 1_000 });
    expect(pending!.lastError).toMatch(/^HTTP 500: receiver overloaded: x+…$/);
    expect(Buffer.byteLength(pending!.lastError!.replace(/^HTTP 500: |…$/g, ''))).toBe(ANSWER_DETAIL_BYTES);
    expect(warnings.map((line) => line.message)).toEqual(['notification failed, will retry']);
    await waitFor('the server to see the connection closed', () => chat.answered[0]?.closed);
    expect(chat.answered[0]!.bytesWritten).toBeLessThan(WRITTEN_AT_MOST);

    chat.answer = { status: 200, body: 'ok' };
    clock += 1_000;
    await outbox.drain();
    expect(store.list('delivered')).toHaveLength(1);
    expect(store.list('pending')).toHaveLength(0);
  });
});

describe('a character cut at the limit', () => {
  it('is left out of the detail, neither thrown on nor turned into U+FFFD', async () => {
    // Three-byte characters from the limit's last byte on: the first of them is cut after one byte.
    const body = Buffer.concat([Buffer.alloc(ANSWER_DETAIL_BYTES - 1, 'a'), Buffer.from('€€€ and more')]);
    const chat = await serve({ status: 503, body });
    const db = openDatabase(':memory:');
    try {
      const store = new OutboxStore(db);
      store.enqueue('ops', 'm', { body: {} }, 0);
      const log: AlertLog = { info: () => {}, warn: () => {}, error: () => {} };
      await webhookDispatcher(store, chat.url, log, { now: () => 0 }).drain();
      expect(store.list('pending')[0]!.lastError).toBe(`HTTP 503: ${'a'.repeat(ANSWER_DETAIL_BYTES - 1)}…`);
    } finally {
      db.close();
    }
  });

  it('split between two network chunks within the limit decodes whole', async () => {
    const euro = Buffer.from('€');
    const engine = await serve({
      status: 429,
      pieces: [
        Buffer.from('slow down '),
        euro.subarray(0, 2),
        Buffer.concat([euro.subarray(2), Buffer.from('5')]),
      ],
    });
    const buffer = new WriteBuffer(':memory:', 1024 * 1024);
    buffer.push(60_000, Buffer.from('a write'));
    const answers: Array<string | undefined> = [];
    const sender = new RemoteWriteSender(
      buffer,
      { url: engine.url, timeoutMs: LONG_TIMEOUT_MS },
      { onDone: () => {}, onRetry: (_write, detail) => answers.push(detail.answer) },
    );
    sender.start();
    try {
      await waitFor('an attempt answered 429', () => answers.length >= 1);
      expect(answers[0]).toBe('slow down €5');
    } finally {
      await sender.stop();
      buffer.close();
    }
  });
});

describe('an engine whose query answer exceeds MAX_QUERY_ANSWER_BYTES', () => {
  const dataSource = (url: string) => ({ name: 'main-prometheus', url, timeoutMs: LONG_TIMEOUT_MS });
  const TOO_LARGE = `main-prometheus: HTTP 200: the answer is larger than the maximum of ${MAX_QUERY_ANSWER_BYTES} bytes; aggregate or narrow the query`;

  it('fails the query with the error naming the maximum, once the read passes it', async () => {
    const engine = await serve({
      status: 200,
      headers: { 'content-type': 'application/json' },
      head: '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"route":"',
      endless: true,
    });
    const startMs = Date.now();
    const failure = await instantQuery(dataSource(engine.url), 'sum(x)', Date.now()).catch((e: unknown) => e);
    expect(Date.now() - startMs).toBeLessThan(PROMPT_MS);
    expect(failure).toBeInstanceOf(PromQlError);
    expect((failure as PromQlError).message).toBe(TOO_LARGE);
    expect((failure as PromQlError).unreachable).toBe(false);
    await waitFor('the engine to see the connection closed', () => engine.answered[0]?.closed);
    expect(engine.answered[0]!.bytesWritten).toBeLessThan(MAX_QUERY_ANSWER_BYTES + WRITTEN_AT_MOST);
  });

  it('fails the query unread when the Content-Length says it is larger', async () => {
    const engine = await serve({
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': String(MAX_QUERY_ANSWER_BYTES + 1) },
      endless: true,
    });
    const failure = await instantQuery(dataSource(engine.url), 'sum(x)', Date.now()).catch((e: unknown) => e);
    expect((failure as PromQlError).message).toBe(TOO_LARGE);
    await waitFor('the engine to see the connection closed', () => engine.answered[0]?.closed);
    expect(engine.answered[0]!.bytesWritten).toBeLessThan(WRITTEN_AT_MOST);
  });

  it('still reads an answer of just under the maximum', async () => {
    const answer = '{"status":"success","data":{"resultType":"scalar","result":[1,"42"]}}';
    const engine = await serve({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: answer + ' '.repeat(MAX_QUERY_ANSWER_BYTES - answer.length),
    });
    expect(await instantQuery(dataSource(engine.url), 'sum(x)', Date.now())).toBe(42);
  });
});

describe('sloguard gate against an address answering without end (a proxy, a wrong URL)', () => {
  it('fails the gate naming the maximum instead of reading until its timeout', async () => {
    const proxy = await serve({
      status: 200,
      headers: { 'content-type': 'application/json' },
      endless: true,
    });
    const errors: string[] = [];
    const startMs = Date.now();
    const code = await runGate(
      {
        service: 'checkout',
        changeType: 'feature',
        failOn: 'deny',
        onError: 'deny',
        format: 'text',
        url: proxy.url,
        timeoutMs: LONG_TIMEOUT_MS,
        waitMs: 0,
        pollMs: 1_000,
      },
      { out: () => {}, err: (text) => errors.push(text) },
    );
    expect(Date.now() - startMs).toBeLessThan(PROMPT_MS);
    expect(code).toBe(EXIT.gateFailed);
    expect(errors).toEqual([
      `gate failed: ${proxy.url} answered: the answer is larger than the maximum of ${MAX_CLI_ANSWER_BYTES} bytes`,
    ]);
    await waitFor('the proxy to see the connection closed', () => proxy.answered[0]?.closed);
  });
});
