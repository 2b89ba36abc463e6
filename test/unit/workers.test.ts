import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/workers.js';
import { ensureBuilt, ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/** A worker built on the compiled answerRequests (threads load .js only): echoes, throws, spins or dies. */
const WORKER = `
import { answerRequests } from ${JSON.stringify(pathToFileURL(`${ROOT}/dist/workers.js`).href)};
answerRequests((request) => {
  if (request === 'die') process.exit(3);
  if (request === 'throw') throw new Error('cannot answer that');
  if (typeof request === 'number') {
    const until = Date.now() + request;
    while (Date.now() < until);
    return 'slept';
  }
  return 'echo ' + request;
});
`;

const dir = tempDir('sloguard-workers-');
let url: URL;
beforeAll(() => {
  ensureBuilt();
  url = pathToFileURL(dir.file('worker.mjs', WORKER));
  return () => dir.cleanup();
});
const pools: Array<WorkerPool<unknown, string>> = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
});
function pool(size: number) {
  const made = new WorkerPool<unknown, string>(url, size, undefined);
  pools.push(made);
  return made;
}

describe('WorkerPool', () => {
  it('answers each request, and turns an error thrown in the thread into a rejection with its message', async () => {
    const threads = pool(2);
    expect(await Promise.all(['a', 'b', 'c'].map((r) => threads.run(r)))).toEqual([
      'echo a',
      'echo b',
      'echo c',
    ]);
    await expect(threads.run('throw')).rejects.toThrow('cannot answer that');
    expect(await threads.run('d')).toBe('echo d');
  });

  it('sends work to the least busy thread: a quick request is not queued behind a slow one', async () => {
    const threads = pool(2);
    const order: string[] = [];
    await Promise.all([
      threads.run(400).then(() => order.push('slow')),
      threads.run('quick').then(() => order.push('quick')),
    ]);
    expect(order).toEqual(['quick', 'slow']);
  });

  it('fails only the requests of a thread that dies, and replaces it', async () => {
    const threads = pool(1);
    await expect(threads.run('die')).rejects.toThrow('worker thread exited with code 3');
    expect(await threads.run('after')).toBe('echo after');
  });

  it("fails a dying thread's requests only: the other thread's answer still arrives", async () => {
    const threads = pool(2);
    const slow = threads.run(300);
    await expect(threads.run('die')).rejects.toThrow('worker thread exited with code 3');
    expect(await slow).toBe('slept');
  });

  it('drains: each caller of drain waits until every answer settled, a timed-out one included', async () => {
    const threads = pool(2);
    const order: string[] = [];
    const answers = [
      threads.run(300).then((answer) => order.push(answer)),
      threads.run(600, [], 50).catch((error: Error) => order.push(error.name)),
    ];
    await Promise.all([threads.drain(), threads.drain()]);
    order.push('drained');
    await Promise.all(answers);
    expect(order).toEqual(['WorkerTimedOut', 'slept', 'drained']);
    await expect(threads.run('late')).rejects.toThrow('worker pool is closed');
  });

  it('refuses work once closed', async () => {
    const threads = pool(1);
    await threads.close();
    await expect(threads.run('late')).rejects.toThrow('worker pool is closed');
  });
});
