import type { SloState, SloStatus } from '../model/status.js';

/** The columns the overview sorts by (docs/api.md#slo-list); each a key of one status. */
export const SLO_SORT_FIELDS = [
  'service',
  'name',
  'objective',
  'window',
  'sli',
  'budget',
  'burn1h',
  'burn6h',
  'burn1d',
  'state',
  'alert',
  'fresh',
] as const;
export type SloSortField = (typeof SLO_SORT_FIELDS)[number];

export const SLO_STATES: readonly SloState[] = ['ok', 'warning', 'exhausted', 'insufficient-data', 'no-data'];

/** Worst first when sorted ascending, as the overview shows states. */
const STATE_RANK: Record<SloState, number> = {
  exhausted: 0,
  warning: 1,
  'insufficient-data': 2,
  'no-data': 3,
  ok: 4,
};

type SortKey = string | number | null;

const SORT_KEYS: Record<SloSortField, (status: SloStatus) => SortKey> = {
  service: (s) => s.service,
  name: (s) => s.name,
  objective: (s) => s.objective,
  window: (s) => s.window,
  sli: (s) => s.sli,
  budget: (s) => s.budget.remainingRatio,
  burn1h: (s) => s.burnRates['1h'] ?? null,
  burn6h: (s) => s.burnRates['6h'] ?? null,
  burn1d: (s) => s.burnRates['1d'] ?? null,
  state: (s) => STATE_RANK[s.state],
  alert: (s) => (s.firing === 'page' ? 0 : s.firing === 'ticket' ? 1 : 2),
  // Freshest first when ascending.
  fresh: (s) => (s.lastObservationMs === null ? null : -s.lastObservationMs),
};

export interface SloPageQuery {
  service?: string;
  state?: SloState;
  /** Case-insensitive substring of the SLO name. */
  q?: string;
  /** Absent: the order the definitions are read in (what the API has always answered). */
  sort?: SloSortField;
  order?: 'asc' | 'desc';
  offset?: number;
  /** Absent: every matching SLO from `offset` on. */
  limit?: number;
}

export interface SloPage {
  slos: SloStatus[];
  /** SLOs matching the filters, before offset and limit. */
  total: number;
  /** SLOs per state over all SLOs, whatever the filters (the overview's summary). */
  states: Record<SloState, number>;
  /** Every service with an SLO, sorted (the overview's service filter). */
  services: string[];
}

const byCodePoint = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** Nulls (no data yet) last in either direction; ties by name, so pages never overlap or skip. */
function compareBy(field: SloSortField, descending: boolean) {
  const sign = descending ? -1 : 1;
  return (a: { key: SortKey; name: string }, b: { key: SortKey; name: string }): number => {
    if (a.key !== b.key) {
      if (a.key === null) return 1;
      if (b.key === null) return -1;
      return sign * (a.key < b.key ? -1 : 1);
    }
    return field === 'name' ? 0 : byCodePoint(a.name, b.name);
  };
}

/** Filter, sort and slice the latest statuses for one page of the overview: one pass, one sort. */
export function sloPage(statuses: readonly SloStatus[], query: SloPageQuery): SloPage {
  const states = Object.fromEntries(SLO_STATES.map((state) => [state, 0])) as Record<SloState, number>;
  const services = new Set<string>();
  const needle = query.q?.toLowerCase();
  const matched: SloStatus[] = [];
  for (const status of statuses) {
    states[status.state]++;
    services.add(status.service);
    if (query.service !== undefined && status.service !== query.service) continue;
    if (query.state !== undefined && status.state !== query.state) continue;
    if (needle && !status.name.toLowerCase().includes(needle)) continue;
    matched.push(status);
  }
  let ordered = matched;
  if (query.sort !== undefined) {
    const key = SORT_KEYS[query.sort];
    ordered = matched
      .map((status) => ({ status, key: key(status), name: status.name }))
      .sort(compareBy(query.sort, query.order === 'desc'))
      .map((entry) => entry.status);
  }
  const offset = query.offset ?? 0;
  const end = query.limit === undefined ? undefined : offset + query.limit;
  return {
    slos: ordered.slice(offset, end),
    total: matched.length,
    states,
    services: [...services].sort(byCodePoint),
  };
}
