import { describe, expect, it } from 'vitest';
import { COUNTED_FIELDS, FIELDS, SlotCache } from '../../src/store/slotCache.js';

/** A reader whose every minute holds one request: the sums say how many minutes a window covered. */
function countingReader() {
  const reads = { minutes: 0 };
  const cache = new SlotCache({
    slots: (_table, _series, from, to, _threshold, into, base, stride) => {
      reads.minutes += to - from;
      for (let slot = from; slot < to; slot++) into[(slot - base) * stride] = 1;
    },
    countHours: () => [0, 0],
  });
  return { cache, reads };
}

/** One tick's reads of a 90-minute window ending `nowMinute` (its two ragged edges) for series 1..series. */
function tick(cache: SlotCache, nowMinute: number, series: number): number {
  const into = new Float64Array(FIELDS);
  const from = nowMinute - 90;
  for (let id = 1; id <= series; id++) {
    cache.addMinutes(id, undefined, from, Math.ceil(from / 60) * 60, into);
    cache.addMinutes(id, undefined, Math.floor(nowMinute / 60) * 60, nowMinute, into);
  }
  return into[0]!;
}

describe('slot cache', () => {
  it('lets go of minute hours the window edges have left, once a tick, and keeps what they still use', () => {
    const { cache, reads } = countingReader();
    const start = 1_000 * 60 + 30;
    // Ten hours of ticks a minute apart: the edges move into a new hour every hour.
    for (let minute = 0; minute < 600; minute++) {
      cache.sweep();
      const covered = tick(cache, start + minute, 3);
      // 30 + 60 minutes at the first tick; each edge's minutes are whole however far it has moved.
      expect(covered).toBe(3 * (((60 - ((start + minute - 90) % 60)) % 60) + ((start + minute) % 60)));
      // Two edges, each in one hour (or where the right edge sits at an hour's start, none): at most 2 per
      // series. Without the sweep they piled up to 48 hours a series.
      expect(cache.minuteHoursHeld()).toBeLessThanOrEqual(2 * 3);
    }
    // Still a cache: each minute read about once, not once a tick (600 ticks × ~90 minutes × 3 series).
    expect(reads.minutes).toBeLessThan(3 * (600 + 2 * 60 * 11));
  });

  it('keeps two fields a minute for counts (total, errors) and all of them for a latency threshold', () => {
    const seen: number[] = [];
    const cache = new SlotCache({
      slots: (_table, _series, from, to, _threshold, into, base, stride) => {
        seen.push(into.length / 60, stride);
        for (let slot = from; slot < to; slot++) {
          into[(slot - base) * stride] = 3;
          into[(slot - base) * stride + 1] = 1;
          if (stride === FIELDS) into[(slot - base) * stride + 3] = 2;
        }
      },
      countHours: () => [0, 0],
    });
    const counted = new Float64Array(FIELDS);
    cache.addMinutes(1, undefined, 600, 610, counted);
    expect([...counted]).toEqual([30, 10, 0, 0, 0, 0]);
    const latency = new Float64Array(FIELDS);
    cache.addMinutes(1, 250_000, 600, 610, latency);
    expect([...latency]).toEqual([30, 10, 0, 20, 0, 0]);
    expect(seen).toEqual([COUNTED_FIELDS, COUNTED_FIELDS, FIELDS, FIELDS]);
  });

  it("keeps an hour's minutes from the earliest edge asked for on, and reads only the earlier ones when asked", () => {
    const reads: Array<{ from: number; to: number; held: number }> = [];
    const cache = new SlotCache({
      slots: (_table, _series, from, to, _threshold, into, base, stride) => {
        reads.push({ from, to, held: into.length / stride });
        for (let slot = from; slot < to; slot++) into[(slot - base) * stride] = slot;
      },
      countHours: () => [0, 0],
    });
    const sum = (from: number, to: number) => {
      const into = new Float64Array(FIELDS);
      cache.addMinutes(1, undefined, from, to, into);
      return into[0]!;
    };
    const minutes = (from: number, to: number) => ((from + to - 1) * (to - from)) / 2;
    // A left edge at minute 45 of hour 10: 15 minutes held, not 60.
    expect(sum(645, 660)).toBe(minutes(645, 660));
    expect(reads).toEqual([{ from: 645, to: 660, held: 15 }]);
    // The edge moved on: nothing read.
    expect(sum(646, 660)).toBe(minutes(646, 660));
    // An earlier edge in the same hour (another SLO's window): only minutes 630–644 are read, the rest kept.
    expect(sum(630, 660)).toBe(minutes(630, 660));
    expect(sum(650, 655)).toBe(minutes(650, 655));
    expect(reads).toEqual([
      { from: 645, to: 660, held: 15 },
      { from: 630, to: 645, held: 30 },
    ]);
  });

  it('drops the series no read asked for since the last sweep', () => {
    const { cache } = countingReader();
    tick(cache, 2_000 * 60 + 10, 5);
    expect(cache.minuteHoursHeld()).toBe(10);
    cache.sweep();
    tick(cache, 2_000 * 60 + 11, 2);
    cache.sweep();
    expect(cache.minuteHoursHeld()).toBe(4);
  });
});
