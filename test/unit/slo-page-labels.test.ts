import { describe, expect, it } from 'vitest';
import {
  type LabelsByName,
  MAX_LABEL_KEYS,
  MAX_LABEL_VALUES,
  parseLabelMatch,
  SloPages,
  sloPage,
} from '../../src/evaluate/sloPage.js';
import type { SloStatus } from '../../src/model/status.js';

/** Only the fields the overview filters, sorts and counts by. */
function status(name: string, remaining: number | null, firing: 'page' | 'ticket' | null = null): SloStatus {
  return {
    name,
    service: 'svc',
    state: 'ok',
    budget: { remainingRatio: remaining },
    burnRates: {},
    firing,
    lastObservationMs: null,
  } as unknown as SloStatus;
}

const STATUSES = [
  status('a', 0.9),
  status('b', 0.1, 'page'),
  status('c', 0.5, 'ticket'),
  status('d', null),
  status('e', 0.2, 'page'),
];
const LABELS: LabelsByName = new Map<string, { labels: Record<string, string> }>([
  ['a', { labels: { team: 'games', tier: '1' } }],
  ['b', { labels: { team: 'shop', tier: '1' } }],
  ['c', { labels: { team: 'games' } }],
  ['e', { labels: { team: 'shop', tier: '2' } }],
]);
const names = (page: { slos: SloStatus[] }) => page.slos.map((s) => s.name);

describe('sloPage labels', () => {
  it('parses key:value at the first colon and refuses a label without a key', () => {
    expect(parseLabelMatch('team:search:core')).toEqual({ key: 'team', value: 'search:core' });
    expect(parseLabelMatch('tier:')).toEqual({ key: 'tier', value: '' });
    expect(parseLabelMatch(':games')).toBeNull();
    expect(parseLabelMatch('team')).toBeNull();
  });

  it('keeps SLOs carrying every label asked; an SLO the definitions do not know carries none', () => {
    const games = sloPage(STATUSES, { labels: [{ key: 'team', value: 'games' }] }, LABELS);
    expect(names(games)).toEqual(['a', 'c']);
    const both = [
      { key: 'team', value: 'shop' },
      { key: 'tier', value: '1' },
    ];
    expect(names(sloPage(STATUSES, { labels: both }, LABELS))).toEqual(['b']);
    expect(sloPage(STATUSES, { labels: [{ key: 'tier', value: '3' }] }, LABELS).total).toBe(0);
  });

  it('groups by a label in value order, keeping the asked sort within each group, SLOs without it last', () => {
    const page = sloPage(STATUSES, { group: 'team', sort: 'budget' }, LABELS);
    expect(names(page)).toEqual(['c', 'a', 'b', 'e', 'd']);
    expect(page.groups).toEqual([
      { value: 'games', count: 2 },
      { value: 'shop', count: 2 },
      { value: null, count: 1 },
    ]);
    // Without a sort, definition order within each group.
    expect(names(sloPage(STATUSES, { group: 'tier' }, LABELS))).toEqual(['a', 'b', 'e', 'c', 'd']);
    // Counts are over what matched, before the page is cut.
    const cut = sloPage(
      STATUSES,
      { group: 'team', limit: 1, labels: [{ key: 'team', value: 'shop' }] },
      LABELS,
    );
    expect(cut).toMatchObject({ total: 2, groups: [{ value: 'shop', count: 2 }] });
  });

  it('reads only the labels an SLO has: a key naming an object property matches nothing', () => {
    for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const page = sloPage(STATUSES, { group: key, labels: [{ key, value: '' }] }, LABELS);
      expect(page).toMatchObject({ slos: [], total: 0, groups: [] });
      expect(sloPage(STATUSES, { group: key }, LABELS).groups).toEqual([{ value: null, count: 5 }]);
    }
  });

  it('counts firing tiers and lists label values over every SLO, whatever the filters', () => {
    const page = sloPage(STATUSES, { labels: [{ key: 'team', value: 'games' }] }, LABELS);
    expect(page.firing).toEqual({ page: 2, ticket: 1 });
    expect(page.labelValues).toEqual({ team: ['games', 'shop'], tier: ['1', '2'] });
  });

  it('caps the label summary, however many distinct labels the SLOs carry', () => {
    const many = Array.from({ length: 500 }, (_, i) => status(`slo-${i}`, 1));
    const labels: LabelsByName = new Map(
      many.map((s, i) => [s.name, { labels: { [`key-${i}`]: 'x', shared: `value-${i}` } }]),
    );
    const { labelValues } = sloPage(many, {}, labels);
    expect(Object.keys(labelValues)).toHaveLength(MAX_LABEL_KEYS);
    expect(labelValues.shared).toHaveLength(MAX_LABEL_VALUES);
  });

  it('recomputes the summary and the groups when the definitions change, though the statuses did not', () => {
    const pages = new SloPages();
    expect(pages.page(STATUSES, { group: 'team' }, LABELS).labelValues.team).toEqual(['games', 'shop']);
    const reloaded: LabelsByName = new Map([['d', { labels: { team: 'search' } }]]);
    const after = pages.page(STATUSES, { group: 'team' }, reloaded);
    expect(after.labelValues).toEqual({ team: ['search'] });
    expect(names(after)[0]).toBe('d');
  });
});
