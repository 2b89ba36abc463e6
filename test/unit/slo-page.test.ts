import { describe, expect, it } from 'vitest';
import { SloPages, sloPage } from '../../src/evaluate/sloPage.js';
import type { SloState, SloStatus } from '../../src/model/status.js';
import { cpuTimed } from '../helpers/cpu.js';

/** Only the fields the overview filters and sorts by; the rest do not matter to the paging math. */
function status(name: string, service: string, state: SloState, remaining: number | null): SloStatus {
  return {
    name,
    service,
    state,
    objective: 0.999,
    window: '28d',
    sli: remaining,
    budget: { remainingRatio: remaining },
    burnRates: { '1h': remaining === null ? null : 1 - remaining },
    firing: null,
    lastObservationMs: null,
  } as unknown as SloStatus;
}

const STATUSES = [
  status('checkout-availability', 'checkout', 'warning', 0.2),
  status('checkout-latency', 'checkout', 'ok', 0.9),
  status('search-availability', 'search', 'no-data', null),
  status('home-availability', 'home', 'exhausted', -0.5),
  status('home-latency', 'home', 'ok', 0.9),
];
const names = (page: { slos: SloStatus[] }) => page.slos.map((s) => s.name);

describe('sloPage', () => {
  it('without a query keeps every status in definition order, with the totals', () => {
    const page = sloPage(STATUSES, {});
    expect(names(page)).toEqual(STATUSES.map((s) => s.name));
    expect(page.total).toBe(5);
    expect(page.states).toEqual({ ok: 2, warning: 1, exhausted: 1, 'insufficient-data': 0, 'no-data': 1 });
    expect(page.services).toEqual(['checkout', 'home', 'search']);
  });

  it('filters by service, state and a case-insensitive name substring; totals count what matched', () => {
    expect(names(sloPage(STATUSES, { service: 'home' }))).toEqual(['home-availability', 'home-latency']);
    expect(names(sloPage(STATUSES, { state: 'ok' }))).toEqual(['checkout-latency', 'home-latency']);
    const latency = sloPage(STATUSES, { q: 'LATENCY', service: 'checkout' });
    expect(names(latency)).toEqual(['checkout-latency']);
    expect(latency.total).toBe(1);
    // The summary stays over all SLOs whatever the filter.
    expect(latency.states.ok).toBe(2);
    expect(sloPage(STATUSES, { service: 'nope' })).toMatchObject({ slos: [], total: 0 });
  });

  it('sorts by budget with nulls last both ways and ties broken by name', () => {
    expect(names(sloPage(STATUSES, { sort: 'budget' }))).toEqual([
      'home-availability',
      'checkout-availability',
      'checkout-latency',
      'home-latency',
      'search-availability',
    ]);
    expect(names(sloPage(STATUSES, { sort: 'budget', order: 'desc' }))).toEqual([
      'checkout-latency',
      'home-latency',
      'checkout-availability',
      'home-availability',
      'search-availability',
    ]);
    expect(names(sloPage(STATUSES, { sort: 'state' }))[0]).toBe('home-availability');
    const byName = names(sloPage(STATUSES, { sort: 'name', order: 'desc' }));
    expect(byName).toEqual([...STATUSES.map((s) => s.name)].sort().reverse());
  });

  it('slices pages that neither overlap nor skip, and an offset past the end is an empty page', () => {
    const seen: string[] = [];
    for (let offset = 0; offset < STATUSES.length; offset += 2) {
      const page = sloPage(STATUSES, { sort: 'budget', offset, limit: 2 });
      expect(page.total).toBe(5);
      expect(page.slos.length).toBeLessThanOrEqual(2);
      seen.push(...names(page));
    }
    expect(seen).toEqual(names(sloPage(STATUSES, { sort: 'budget' })));
    expect(sloPage(STATUSES, { offset: 99, limit: 10 })).toMatchObject({ slos: [], total: 5 });
  });

  it('pages 10,000 statuses by a numeric key in well under a second of event-loop time', () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      status(
        `svc${i % 500}-slo${i}`,
        `svc${i % 500}`,
        i % 7 === 0 ? 'warning' : 'ok',
        ((i * 7919) % 1000) / 1000,
      ),
    );
    // CPU time: a busy machine does not stretch it.
    const { result: page, ms } = cpuTimed(() =>
      sloPage(many, { sort: 'budget', q: 'slo1', limit: 100, offset: 100 }),
    );
    expect(page.slos).toHaveLength(100);
    expect(page.total).toBe(many.filter((s) => s.name.includes('slo1')).length);
    console.log(`sloPage over 10,000 statuses: ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(1000);
  });

  it("sorts a tick's statuses once for every page asked of them, and again once the next tick replaces them", () => {
    let budgetReads = 0;
    const counted = (statuses: readonly SloStatus[]) =>
      statuses.map((s) => {
        const copy = { ...s };
        Object.defineProperty(copy, 'budget', {
          get: () => {
            budgetReads++;
            return s.budget;
          },
        });
        return copy;
      });
    const pages = new SloPages();
    const tick = counted(STATUSES);
    expect(names(pages.page(tick, { sort: 'budget', limit: 2 }))).toEqual([
      'home-availability',
      'checkout-availability',
    ]);
    const readsForOneSort = budgetReads;
    expect(readsForOneSort).toBe(STATUSES.length);
    // The same statuses in a new list (the evaluator hands out a fresh array per request): no second sort.
    const next = pages.page([...tick], { sort: 'budget', offset: 2, limit: 2, service: 'home' });
    expect(names(next)).toEqual([]);
    expect(pages.page([...tick], { sort: 'budget', offset: 2, limit: 2 }).slos.map((s) => s.name)).toEqual([
      'checkout-latency',
      'home-latency',
    ]);
    expect(budgetReads).toBe(readsForOneSort);
    // The next tick: checkout-latency's budget is now the lowest, and the order follows.
    const later = counted(
      STATUSES.map((s) =>
        s.name === 'checkout-latency' ? { ...s, budget: { ...s.budget, remainingRatio: -1 } } : s,
      ),
    );
    expect(names(pages.page(later, { sort: 'budget', limit: 1 }))).toEqual(['checkout-latency']);
    expect(budgetReads).toBe(2 * readsForOneSort);
    expect(pages.page(later, { sort: 'budget', order: 'desc' }).states).toEqual(sloPage(later, {}).states);
  });
});
