import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_SPANS, SERVER_SPANS } from '../helpers/shopSlos.js';
import { appWithSpanThreads } from '../helpers/spanThreads.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A batch whose parsing thread does not answer in time (on a busy machine the idle-class threads may get no CPU
 * for long) is answered 503 `parser_busy` with Retry-After instead of waiting without bound; nothing of it is
 * counted, not even when the thread answers later, and a batch whose caller stopped waiting before a thread took
 * it is skipped, not parsed. The thread here runs the built span decoder, holding on a batch that holds a span
 * named `hold-the-thread` until the test releases it, and notes every batch it parses in a file.
 */
const HOLD = 'hold-the-thread';
const MAX_WAIT_MS = 2_000;
const dir = tempDir('sloguard-span-parse-wait-');
const release = join(dir.path, 'release');
const parsed = join(dir.path, 'parsed');
afterAll(() => dir.cleanup());
const { body, post, stored } = appWithSpanThreads(dir, {
  threads: 1,
  maxWaitMs: MAX_WAIT_MS,
  imports:
    "import { appendFileSync, existsSync } from 'node:fs';\nconst pause = new Int32Array(new SharedArrayBuffer(4));",
  onRequest: `appendFileSync(${JSON.stringify(parsed)}, 'x');
  if (Buffer.concat(request.body).includes(${JSON.stringify(HOLD)}))
    for (let i = 0; i < 1200 && !existsSync(${JSON.stringify(release)}); i++) Atomics.wait(pause, 0, 0, 50);`,
  beforeClose: () => dir.file('release', ''),
});

const parsedBatches = () => (existsSync(parsed) ? readFileSync(parsed, 'utf8').length : 0);

describe('a span batch no parsing thread answers in time', () => {
  it('is answered 503 parser_busy with Retry-After, counted never, and a batch queued behind it is skipped', async () => {
    const perBatch = SERVER_SPANS + CLIENT_SPANS;
    expect((await post(body())).statusCode).toBe(202);
    expect(stored()).toBe(perBatch);

    // The one thread holds the first; the second waits behind it. Both outlast the bound.
    const started = Date.now();
    const [held, queued] = await Promise.all([post(body(HOLD)), post(body())]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(MAX_WAIT_MS - 50);
    for (const answer of [held, queued]) {
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.json()).toEqual({
        error: 'parser_busy',
        message: expect.stringContaining('nothing of this batch was stored, send it again'),
      });
    }
    expect(parsedBatches()).toBe(2);

    // Released, the thread finishes the held batch (its answer is dropped) and skips the expired one.
    dir.file('release', '');
    await waitFor('a batch accepted again', async () => (await post(body())).statusCode === 202, {
      timeoutMs: 30_000,
    });
    expect(stored()).toBe(2 * perBatch);
    expect(parsedBatches()).toBe(3);
  });
});
