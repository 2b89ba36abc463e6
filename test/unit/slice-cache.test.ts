import { describe, expect, it } from 'vitest';
import type { EventCounts } from '../../src/model/status.js';
import { type AskSlices, MAX_RANGE_STEPS, SliceCache } from '../../src/sources/promql/sliceCache.js';

const MINUTE = 60_000;

/** An engine whose slice ending at `t` holds t/MINUTE valid events, a tenth of them good; it records each ask. */
function engine(): { ask: AskSlices; asked: Array<[number, number]> } {
  const asked: Array<[number, number]> = [];
  return {
    asked,
    ask: async (startMs, endMs) => {
      asked.push([startMs, endMs]);
      const events = new Map<number, EventCounts>();
      for (let t = startMs; t <= endMs; t += MINUTE) {
        // An end without events has no answer: it counts as none.
        if (t % (7 * MINUTE) !== 0)
          events.set(t, { good: t / MINUTE / 10, valid: t / MINUTE, errorBound: 0 });
      }
      return events;
    },
  };
}

const span = (firstEndMs: number, count: number) => ({ firstEndMs, count, sliceMs: MINUTE });

describe('SliceCache', () => {
  it('asks only the slices closed since the last read and answers as a fresh read', async () => {
    const cache = new SliceCache();
    const warm = engine();
    await cache.read('slo', 'a', span(100 * MINUTE, 60), warm.ask);
    expect(warm.asked).toEqual([[100 * MINUTE, 159 * MINUTE]]);
    // Five minutes later: the window moved on by five slices.
    const later = await cache.read('slo', 'a', span(105 * MINUTE, 60), warm.ask);
    expect(warm.asked.at(-1)).toEqual([160 * MINUTE, 164 * MINUTE]);
    expect(cache.kept('slo')).toBe(60);
    const fresh = engine();
    expect(later).toEqual(await new SliceCache().read('slo', 'a', span(105 * MINUTE, 60), fresh.ask));
    expect(later.valid[0]).toBe(0);
    expect(later.valid[1]).toBe(106);
    expect(later.good[1]).toBeCloseTo(10.6);
  });

  it('starts afresh when the key changes (a reload that changes the SLO) and drops SLOs no longer read', async () => {
    const cache = new SliceCache();
    const asks = engine();
    await cache.read('slo', 'a', span(100 * MINUTE, 10), asks.ask);
    await cache.read('other', 'a', span(100 * MINUTE, 10), asks.ask);
    await cache.read('slo', 'b', span(100 * MINUTE, 10), asks.ask);
    expect(asks.asked.at(-1)).toEqual([100 * MINUTE, 109 * MINUTE]);
    cache.retain(new Set(['slo']));
    expect(cache.kept('other')).toBe(0);
    expect(cache.kept('slo')).toBe(10);
  });

  it('keeps no more slices than its cap across SLOs: one that would pass it is read whole each time', async () => {
    const cache = new SliceCache(25);
    const asks = engine();
    await cache.read('first', 'a', span(100 * MINUTE, 10), asks.ask);
    await cache.read('second', 'a', span(100 * MINUTE, 10), asks.ask);
    const third = await cache.read('third', 'a', span(100 * MINUTE, 10), asks.ask);
    expect([cache.kept('first'), cache.kept('second'), cache.kept('third')]).toEqual([10, 10, 0]);
    // Not kept, yet answered in full, and asked whole again next time.
    expect(third).toEqual(await new SliceCache().read('third', 'a', span(100 * MINUTE, 10), engine().ask));
    await cache.read('third', 'a', span(101 * MINUTE, 10), asks.ask);
    expect(asks.asked.at(-1)).toEqual([101 * MINUTE, 110 * MINUTE]);
    // A dropped SLO gives its room back; one read again in place counts once.
    cache.retain(new Set(['second', 'third']));
    await cache.read('second', 'a', span(101 * MINUTE, 10), asks.ask);
    await cache.read('third', 'a', span(101 * MINUTE, 10), asks.ask);
    expect([cache.kept('second'), cache.kept('third')]).toEqual([10, 10]);
  });

  it('keeps nothing from a read whose ask failed, and cuts long runs into range queries the engine accepts', async () => {
    const cache = new SliceCache();
    const failing: AskSlices = async () => {
      throw new Error('engine down');
    };
    await expect(cache.read('slo', 'a', span(MINUTE, 5), failing)).rejects.toThrow('engine down');
    expect(cache.kept('slo')).toBe(0);
    const asks = engine();
    const count = MAX_RANGE_STEPS + 5;
    await cache.read('slo', 'a', span(MINUTE, count), asks.ask);
    expect(asks.asked).toEqual([
      [MINUTE, MAX_RANGE_STEPS * MINUTE],
      [(MAX_RANGE_STEPS + 1) * MINUTE, count * MINUTE],
    ]);
  });
});
