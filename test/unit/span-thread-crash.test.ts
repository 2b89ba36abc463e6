import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_SPANS, SERVER_SPANS } from '../helpers/shopSlos.js';
import { appWithSpanThreads } from '../helpers/spanThreads.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A parsing thread that stops in the middle of a batch (a crash, an out-of-memory abort) must cost only that
 * batch: it is answered 503 with Retry-After in the error shape, nothing of it is stored, batches already
 * accepted and those on other threads are kept, and a new thread takes the next batches. The threads here run
 * the built span decoder, stopping the thread when a batch holds a span named `stop-the-thread`.
 */
const STOP = 'stop-the-thread';
const dir = tempDir('sloguard-span-thread-crash-');
afterAll(() => dir.cleanup());
// Two threads, as on a 2-core machine: a batch on the other thread must not be lost with the stopped one.
const { body, post, stored } = appWithSpanThreads(dir, {
  threads: 2,
  onRequest: `if (Buffer.concat(request.body).includes(${JSON.stringify(STOP)})) process.exit(7);`,
});

describe('a span parsing thread that stops mid-batch', () => {
  it('answers that batch 503 with Retry-After, keeps every accepted batch, and parses the next on a new thread', async () => {
    const perBatch = SERVER_SPANS + CLIENT_SPANS;
    expect((await post(body())).statusCode).toBe(202);
    expect(stored()).toBe(perBatch);

    // The stopping batch and a good one in flight together, on the two threads.
    const [lost, kept] = await Promise.all([post(body(STOP)), post(body())]);
    expect(lost.statusCode).toBe(503);
    expect(lost.headers['retry-after']).toBe('1');
    expect(lost.json()).toEqual({
      error: 'parser_restarted',
      message: expect.stringContaining('nothing of it was stored, send it again'),
    });
    expect(kept.statusCode).toBe(202);
    expect(stored()).toBe(2 * perBatch);

    // Both threads take work again (a new one in place of the stopped), several times over.
    const again = await Promise.all(Array.from({ length: 4 }, () => post(body())));
    expect(again.map((answer) => answer.statusCode)).toEqual([202, 202, 202, 202]);
    expect(stored()).toBe(6 * perBatch);
  });
});
