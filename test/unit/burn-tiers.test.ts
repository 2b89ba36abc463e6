import { describe, expect, it } from 'vitest';
import { nominalWindowMs } from '../../src/definitions/window.js';
import { burnRateTiers, burnWindows, detectionMs, tierState } from '../../src/evaluate/math.js';

const DAY = 86_400_000;
const month = nominalWindowMs({ kind: 'calendar', unit: 'month', count: 1, timeZone: 'UTC' });
const quarter = nominalWindowMs({ kind: 'calendar', unit: 'quarter', count: 1, timeZone: 'UTC' });

/** docs/alerts.md's table: [long, short, factor] per tier, page, page, ticket, ticket. */
const TABLE: Array<[string, number, Array<[string, string, number]>]> = [
  [
    '1d',
    DAY,
    [
      ['2m', '1m', 14],
      ['13m', '1m', 7],
      ['51m', '4m', 2],
      ['3h26m', '13m', 1],
    ],
  ],
  [
    '7d',
    7 * DAY,
    [
      ['15m', '1m', 14],
      ['1h30m', '8m', 7],
      ['6h', '30m', 2],
      ['1d', '1h30m', 1],
    ],
  ],
  [
    '14d',
    14 * DAY,
    [
      ['30m', '3m', 14],
      ['3h', '15m', 7],
      ['12h', '1h', 2],
      ['2d', '3h', 1],
    ],
  ],
  [
    '28d',
    28 * DAY,
    [
      ['1h', '5m', 14],
      ['6h', '30m', 7],
      ['1d', '2h', 2],
      ['4d', '6h', 1],
    ],
  ],
  [
    '30d',
    30 * DAY,
    [
      ['1h4m', '5m', 14],
      ['6h26m', '32m', 7],
      ['1d1h43m', '2h9m', 2],
      ['4d6h51m', '6h26m', 1],
    ],
  ],
  [
    '90d',
    90 * DAY,
    [
      ['3h13m', '16m', 14],
      ['19h17m', '1h36m', 7],
      ['3d5h9m', '6h26m', 2],
      ['12d20h34m', '19h17m', 1],
    ],
  ],
  [
    'calendar month',
    month,
    [
      ['1h4m', '5m', 14],
      ['6h26m', '32m', 7],
      ['1d1h43m', '2h9m', 2],
      ['4d6h51m', '6h26m', 1],
    ],
  ],
  [
    'calendar quarter',
    quarter,
    [
      ['3h13m', '16m', 14],
      ['19h17m', '1h36m', 7],
      ['3d5h9m', '6h26m', 2],
      ['12d20h34m', '19h17m', 1],
    ],
  ],
];

describe('burn-rate tiers for every SLO window', () => {
  it.each(TABLE)('%s: the factors stay, the windows scale', (_name, windowMs, expected) => {
    const tiers = burnRateTiers(windowMs);
    expect(tiers.map((t) => t.severity)).toEqual(['page', 'page', 'ticket', 'ticket']);
    expect(tiers.map((t) => [t.longWindow, t.shortWindow, t.factor])).toEqual(expected);
    for (const tier of tiers) {
      // Every window is whole minutes (the bucket size), the short one a fraction of the long one.
      expect(tier.longWindowMs % 60_000).toBe(0);
      expect(tier.shortWindowMs).toBeLessThan(tier.longWindowMs);
    }
  });

  it('spends the same share of the budget before each tier fires, whatever the window (within rounding)', () => {
    for (const [, windowMs] of TABLE.slice(1)) {
      const shares = burnRateTiers(windowMs).map((t) => t.budgetShare);
      expect(shares[0]).toBeCloseTo(14 / 672, 2);
      expect(shares[1]).toBeCloseTo(7 / 112, 2);
      expect(shares[2]).toBeCloseTo(2 / 28, 2);
      expect(shares[3]).toBeCloseTo(4 / 28, 2);
    }
  });

  it('asks for a burn rate over every tier window and the reported ones, shortest first', () => {
    const names = burnWindows(7 * DAY).map(([name]) => name);
    expect(names).toEqual(['1m', '5m', '8m', '15m', '30m', '1h', '1h30m', '2h', '6h', '1d', '3d']);
  });

  it('never fires at a burn rate at or under 1, for any window from 1 day to 1 year', () => {
    // A seeded generator (mulberry32) so a failure reproduces.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    let checked = 0;
    for (let i = 0; i < 2000; i++) {
      const windowMs = Math.round(DAY + random() * 364 * DAY);
      for (const tier of burnRateTiers(windowMs)) {
        expect(tier.factor).toBeGreaterThanOrEqual(1);
        // Rates at or under 1, the edge itself included.
        for (const [long, short] of [
          [random(), random()],
          [1, 1],
          [1, random()],
        ]) {
          expect(tierState(tier, { rate: long!, valid: 1e9 }, { rate: short! }, 10)).not.toBe('firing');
          checked += 1;
        }
      }
    }
    expect(checked).toBe(2000 * 4 * 3);
  });

  it('detects a sudden 20× burn of a 7-day SLO in 10.5 minutes (factor ÷ rate of the 15m long window)', () => {
    const [page] = burnRateTiers(7 * DAY);
    expect(detectionMs(page!, 20)).toBe(10.5 * 60_000);
    expect(detectionMs(page!, 14)).toBeNull();
  });
});
