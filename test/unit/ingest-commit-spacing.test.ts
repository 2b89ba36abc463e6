import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { memoryStore, pipelineOf } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

/** `count` spans of one service at T0, as a batch. */
function batchOf(service: string, count: number): BatchAggregate {
  const batch = new BatchAggregate();
  for (let i = 0; i < count; i++) {
    batch.add({
      timeMs: T0 + i,
      kind: 'traces',
      source: 'server',
      service,
      operation: '/api/items/:id',
      method: 'GET',
      status: 200,
      error: false,
      durationUs: 1_000 + i,
    });
  }
  return batch;
}

describe('ingest commits under a stream of batches', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('carries the batches of the next few milliseconds in one commit, and answers each once it is stored', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const { buckets, total } = memoryStore();
    const commit = vi.spyOn(buckets, 'commit');
    const pipeline = pipelineOf(buckets, 100_000);
    const stored: string[] = [];
    const submit = (service: string) =>
      pipeline.submit(batchOf(service, 10)).then(() => stored.push(service));

    // A batch after a quiet spell commits on the next turn.
    void submit('first');
    await vi.advanceTimersByTimeAsync(0);
    expect(commit).toHaveBeenCalledTimes(1);
    expect(stored).toEqual(['first']);

    // Batches arriving one a millisecond right after it wait out the rest of the spacing and commit together.
    for (const service of ['a', 'b', 'c']) {
      void submit(service);
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(commit).toHaveBeenCalledTimes(1);
    expect(stored).toEqual(['first']);
    expect(total('a')).toBe(0);
    await vi.advanceTimersByTimeAsync(5);
    expect(commit).toHaveBeenCalledTimes(2);
    expect(stored).toEqual(['first', 'a', 'b', 'c']);
    for (const service of ['first', 'a', 'b', 'c']) expect(total(service)).toBe(10);
  });
});
