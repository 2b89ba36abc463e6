import { describe, expect, it } from 'vitest';
import { type BreakdownKey, rankGroup } from '../../src/evaluate/breakdown.js';

const key = (operation: string, method = 'GET'): BreakdownKey => ({
  kind: 'loadbalancer',
  source: 'edge',
  operation,
  method,
});
const series = (operation: string, valid: number, bad: number) => ({
  key: key(operation),
  valid,
  bad,
  errorBound: 0,
  sparkline: [],
});

describe('budget breakdown ranking', () => {
  const counted = [
    series('/b', 100, 5),
    series('/a', 100, 5),
    series('/c', 1000, 20),
    series('/idle', 0, 0),
    series('/d', 300, 0),
  ];

  it('ranks by bad events, ties by valid events then by name, and leaves out series without events', () => {
    const group = rankGroup(counted, 0.99, false, { limit: 10, sort: 'bad' });
    expect(group.rows.map((r) => r.operation)).toEqual(['/c', '/a', '/b', '/d']);
    expect(group).toMatchObject({ valid: 1500, bad: 30, allowedBad: 15, budgetSpent: 2, seriesCount: 4 });
    // Shares of the bad events and of the range's budget: 20 of 30 bad, 20 of 15 allowed.
    expect(group.rows[0]).toMatchObject({ badShare: 20 / 30, budgetShare: 20 / 15, sli: 0.98 });
  });

  it('ranks by SLI when asked: a small series failing a larger share first', () => {
    const group = rankGroup(counted, 0.99, false, { limit: 2, sort: 'sli' });
    expect(group.rows.map((r) => [r.operation, r.sli])).toEqual([
      ['/a', 0.95],
      ['/b', 0.95],
    ]);
    expect(group.seriesCount).toBe(4);
  });

  it('gives no budget shares for slice budgeting, where the budget is spent in slices', () => {
    const group = rankGroup(counted, 0.99, true, { limit: 10, sort: 'bad' });
    expect(group.budgetSpent).toBeNull();
    expect(group.rows.every((r) => r.budgetShare === null && r.badShare !== null)).toBe(true);
  });
});
