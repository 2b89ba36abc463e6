import { describe, expect, it, vi } from 'vitest';
import { BatchedCommit } from '../../src/store/batchedCommit.js';

/** A writer that records each group it was given and fails any group holding a "bad" item. */
function recorder(failsOn = 'bad') {
  const groups: string[][] = [];
  const write = (items: readonly string[]) => {
    if (items.includes(failsOn)) throw new Error(`cannot write ${failsOn}`);
    groups.push([...items]);
  };
  return { groups, write };
}

describe('BatchedCommit', () => {
  it('writes the items queued in one turn as one group and answers each caller after that write', async () => {
    const { groups, write } = recorder();
    const writer = new BatchedCommit(write);
    const answered: string[] = [];
    const calls = ['a', 'b', 'c'].map((item) => writer.submit(item).then(() => answered.push(item)));
    expect(groups).toEqual([]);
    await Promise.all(calls);
    expect(groups).toEqual([['a', 'b', 'c']]);
    expect(answered).toEqual(['a', 'b', 'c']);
    await writer.submit('d');
    expect(groups).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('counts the weight waiting and forgets it once the group is written', async () => {
    const writer = new BatchedCommit(recorder().write);
    const first = writer.submit('a', 40);
    const second = writer.submit('b', 2);
    expect(writer.waiting).toBe(42);
    await Promise.all([first, second]);
    expect(writer.waiting).toBe(0);
  });

  it('when retryAlone says so, writes each item of a failed group alone: only the bad item fails', async () => {
    const { groups, write } = recorder();
    const writer = new BatchedCommit(write, () => true);
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((item) => writer.submit(item)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('cannot write bad'));
    expect(groups).toEqual([['a'], ['c']]);
  });

  it('without retryAlone a failed group fails all its callers and leaves nothing queued behind', async () => {
    const { groups, write } = recorder();
    let asked = 0;
    const writer = new BatchedCommit(write, () => {
      asked++;
      return false;
    });
    const results = await Promise.allSettled(['a', 'bad'].map((item) => writer.submit(item)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(asked).toBe(1);
    expect(writer.waiting).toBe(0);
    await writer.submit('c');
    expect(groups).toEqual([['c']]);
  });

  it('committed() waits for everything added so far and hears of its failure', async () => {
    const { groups, write } = recorder();
    const writer = new BatchedCommit(write);
    await expect(writer.committed()).resolves.toBeUndefined();
    writer.add('a');
    writer.add('b');
    const both = writer.committed();
    expect(groups).toEqual([]);
    await both;
    expect(groups).toEqual([['a', 'b']]);
    writer.add('bad');
    await expect(writer.committed()).rejects.toThrow('cannot write bad');
    writer.add('c');
    await expect(writer.committed()).resolves.toBeUndefined();
    expect(groups).toEqual([['a', 'b'], ['c']]);
  });

  it('flush() writes at once, returns the first failure instead of throwing, and the later turn finds nothing', async () => {
    const { groups, write } = recorder();
    const writer = new BatchedCommit(write);
    writer.add('a');
    expect(writer.flush()).toBeUndefined();
    expect(groups).toEqual([['a']]);
    writer.add('bad');
    expect(writer.flush()).toEqual(new Error('cannot write bad'));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(groups).toEqual([['a']]);
  });

  it('with spacingMs, a group that follows a commit closely waits out the spacing and carries several turns', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'],
    });
    try {
      const { groups, write } = recorder();
      const writer = new BatchedCommit(write, undefined, 50);
      const answered: string[] = [];
      const submit = (item: string) => writer.submit(item).then(() => answered.push(item));
      void submit('a');
      await vi.advanceTimersByTimeAsync(0);
      expect(groups).toEqual([['a']]);
      void submit('b');
      await vi.advanceTimersByTimeAsync(20);
      void submit('c');
      await vi.advanceTimersByTimeAsync(29);
      expect(groups).toEqual([['a']]);
      expect(answered).toEqual(['a']);
      await vi.advanceTimersByTimeAsync(1);
      expect(groups).toEqual([['a'], ['b', 'c']]);
      expect(answered).toEqual(['a', 'b', 'c']);
      // After a quiet spell longer than the spacing, an item commits on the next turn.
      await vi.advanceTimersByTimeAsync(100);
      void submit('d');
      await vi.advanceTimersByTimeAsync(0);
      expect(groups).toEqual([['a'], ['b', 'c'], ['d']]);
      // flush() still writes at once, and the spacing's timer it replaces finds nothing later.
      void submit('e');
      expect(writer.flush()).toBeUndefined();
      expect(groups.at(-1)).toEqual(['e']);
      await vi.advanceTimersByTimeAsync(100);
      expect(groups).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });

  describe('with sliceMs', () => {
    /** A writer whose every item costs `msPerItem` of the event loop's time. */
    function costly(msPerItem: number) {
      const groups: string[][] = [];
      const write = (items: readonly string[]) => {
        const until = performance.now() + msPerItem * items.length;
        while (performance.now() < until);
        if (items.includes('bad')) throw new Error('cannot write bad');
        groups.push([...items]);
      };
      return { groups, write };
    }

    it('commits a backlog of costly items in transactions of whole items, the event loop turning between them', async () => {
      const { groups, write } = costly(2);
      const writer = new BatchedCommit(write, () => true, 0, 1);
      const answered: string[] = [];
      const calls = ['a', 'b', 'bad', 'd'].map((item) =>
        writer.submit(item, 10).then(
          () => answered.push(item),
          () => answered.push(`${item} failed`),
        ),
      );
      const all = writer.committed();
      // Runs right after the first slice: the other items still wait, and their weight still counts.
      const betweenSlices = new Promise<[number, number]>((resolve) =>
        setImmediate(() => resolve([groups.length, writer.waiting])),
      );
      expect(await betweenSlices).toEqual([1, 30]);
      // Submitted during the backlog: committed after it, in the next group.
      const late = writer.submit('e', 10).then(() => answered.push('e'));
      await expect(all).rejects.toThrow('cannot write bad');
      await Promise.all([...calls, late]);
      // Each costs more than a slice, so each is its own transaction; the bad one fails only its caller.
      expect(groups).toEqual([['a'], ['b'], ['d'], ['e']]);
      expect(answered).toEqual(['a', 'b', 'bad failed', 'd', 'e']);
      expect(writer.waiting).toBe(0);
    });

    it('gathers cheap items into one transaction once it knows their cost', async () => {
      const { groups, write } = costly(0);
      const writer = new BatchedCommit(write, undefined, 0, 1_000);
      await Promise.all(['a', 'b', 'c', 'd'].map((item) => writer.submit(item)));
      // The first slice holds one item (no cost known yet); the rest fit in one slice.
      expect(groups).toEqual([['a'], ['b', 'c', 'd']]);
      await Promise.all(['e', 'f', 'g'].map((item) => writer.submit(item)));
      expect(groups.at(-1)).toEqual(['e', 'f', 'g']);
    });

    it('flush() commits the rest of a backlog at once, and the slices it replaces find nothing later', async () => {
      const { groups, write } = costly(2);
      const writer = new BatchedCommit(write, undefined, 0, 1);
      const calls = ['a', 'b', 'c'].map((item) => writer.submit(item));
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(groups).toEqual([['a']]);
      writer.add('d');
      expect(writer.flush()).toBeUndefined();
      expect(groups).toEqual([['a'], ['b', 'c'], ['d']]);
      await Promise.all(calls);
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(groups).toHaveLength(3);
      expect(writer.waiting).toBe(0);
    });
  });
});
