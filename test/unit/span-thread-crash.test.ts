import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { SpanDecoder } from '../../src/ingest/zipkin/decoder.js';
import { createLogger } from '../../src/ingestCore.js';
import { createApp, createSloguard, type Sloguard } from '../../src/service.js';
import { CHECK_RESPONSES, ensureBuilt, ROOT } from '../helpers/service.js';
import { CLIENT_SPANS, SERVER_SPANS, shopSpans } from '../helpers/shopSlos.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A parsing thread that stops in the middle of a batch (a crash, an out-of-memory abort) must cost only that
 * batch: it is answered 503 with Retry-After in the error shape, nothing of it is stored, batches already
 * accepted and those on other threads are kept, and a new thread takes the next batches. The threads here run
 * the built span decoder, stopping the thread when a batch holds a span named `stop-the-thread`.
 */
const STOP = 'stop-the-thread';
const entrySource = (dist: string) => `
import { workerData } from 'node:worker_threads';
import { answerRequests } from ${JSON.stringify(pathToFileURL(join(dist, 'workers.js')).href)};
import { spanDecoderFor } from ${JSON.stringify(pathToFileURL(join(dist, 'ingest/zipkin/decode.js')).href)};
const decode = spanDecoderFor(workerData);
answerRequests((request) => {
  if (Buffer.concat(request.body).includes(${JSON.stringify(STOP)}))
    process.exit(7);
  return decode(request);
});
`;

const dir = tempDir('sloguard-span-thread-crash-');
let sloguard: Sloguard;
let app: FastifyInstance;

beforeAll(async () => {
  ensureBuilt();
  const entry = pathToFileURL(dir.file('stoppingDecoder.mjs', entrySource(join(ROOT, 'dist'))));
  const config = {
    ...loadConfig({ SLOGUARD_LOG_LEVEL: 'silent', SLOGUARD_CHECK_RESPONSES: CHECK_RESPONSES }),
    databasePath: join(dir.path, 'sloguard.db'),
    definitionsPath: join(ROOT, 'slo-definitions'),
  };
  sloguard = createSloguard(config, createLogger('silent'));
  const setup = { templates: {}, thresholdsUs: [], countingRules: [] };
  // Two threads, as on a 2-core machine: a batch on the other thread must not be lost with the stopped one.
  sloguard.spans = new SpanDecoder(sloguard.routes, setup, 2, entry);
  ({ app } = await createApp(sloguard));
});

afterAll(async () => {
  await app?.close();
  sloguard?.close();
  dir.cleanup();
});

const body = (stop: boolean) => {
  const spans = shopSpans(Date.now() * 1000);
  if (stop) spans[1_234]!.name = STOP;
  return JSON.stringify(spans);
};
const post = (payload: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v2/spans',
    headers: { 'content-type': 'application/json' },
    payload,
  });
const stored = () =>
  (sloguard.db.prepare('SELECT COALESCE(SUM(total), 0) AS n FROM minute_buckets').get() as { n: number }).n;

describe('a span parsing thread that stops mid-batch', () => {
  it('answers that batch 503 with Retry-After, keeps every accepted batch, and parses the next on a new thread', async () => {
    const perBatch = SERVER_SPANS + CLIENT_SPANS;
    expect((await post(body(false))).statusCode).toBe(202);
    expect(stored()).toBe(perBatch);

    // The stopping batch and a good one in flight together, on the two threads.
    const [lost, kept] = await Promise.all([post(body(true)), post(body(false))]);
    expect(lost.statusCode).toBe(503);
    expect(lost.headers['retry-after']).toBe('1');
    expect(lost.json()).toEqual({
      error: 'parser_restarted',
      message: expect.stringContaining('nothing of it was stored, send it again'),
    });
    expect(kept.statusCode).toBe(202);
    expect(stored()).toBe(2 * perBatch);

    // Both threads take work again (a new one in place of the stopped), several times over.
    const again = await Promise.all(Array.from({ length: 4 }, () => post(body(false))));
    expect(again.map((answer) => answer.statusCode)).toEqual([202, 202, 202, 202]);
    expect(stored()).toBe(6 * perBatch);
  });
});
