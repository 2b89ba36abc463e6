import { describe, expect, it } from 'vitest';
import { MAX_CLIENTS_PER_ROUTE, RouteBudget } from '../../src/http/limits.js';

describe('a route budget', () => {
  it('counts each client in a fixed minute from its first request, then opens a fresh window', () => {
    const budget = new RouteBudget(2);
    expect(budget.spend('ci', 1_000)).toEqual({ count: 1, startMs: 1_000 });
    expect(budget.spend('ci', 30_000).count).toBe(2);
    expect(budget.spend('other', 30_000)).toEqual({ count: 1, startMs: 30_000 });
    // Still the first window one millisecond before its end: past the budget.
    expect(budget.spend('ci', 60_999)).toEqual({ count: 3, startMs: 1_000 });
    expect(budget.spend('ci', 61_000)).toEqual({ count: 1, startMs: 61_000 });
  });

  it('keeps at most MAX_CLIENTS_PER_ROUTE windows, forgetting the client seen first', () => {
    const budget = new RouteBudget(1);
    budget.spend('first', 0);
    budget.spend('first', 0);
    for (let i = 0; i < MAX_CLIENTS_PER_ROUTE; i++) budget.spend(`client-${i}`, 1);
    expect(budget.clients).toBe(MAX_CLIENTS_PER_ROUTE);
    // Forgotten: its next request opens a fresh window instead of being over its budget.
    expect(budget.spend('first', 2)).toEqual({ count: 1, startMs: 2 });
    expect(budget.clients).toBe(MAX_CLIENTS_PER_ROUTE);
    // The most recent clients kept theirs.
    expect(budget.spend(`client-${MAX_CLIENTS_PER_ROUTE - 1}`, 3)).toEqual({ count: 2, startMs: 1 });
  });
});
