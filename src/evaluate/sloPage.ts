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

/** Worst-first summary over all SLOs, whatever the filters. */
function summarise(statuses: readonly SloStatus[]): Pick<SloPage, 'states' | 'services'> {
  const states = Object.fromEntries(SLO_STATES.map((state) => [state, 0])) as Record<SloState, number>;
  const services = new Set<string>();
  for (const status of statuses) {
    states[status.state]++;
    services.add(status.service);
  }
  return { states, services: [...services].sort(byCodePoint) };
}

function sorted(statuses: readonly SloStatus[], field: SloSortField, descending: boolean): SloStatus[] {
  const key = SORT_KEYS[field];
  return statuses
    .map((status) => ({ status, key: key(status), name: status.name }))
    .sort(compareBy(field, descending))
    .map((entry) => entry.status);
}

/** Whether two lists hold the same status objects in the same order (the same tick's statuses). */
function sameStatuses(a: readonly SloStatus[], b: readonly SloStatus[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Pages of the overview over the latest statuses. The statuses change once a tick and the overview asks for
 * many pages in between, so the summary and each ordering asked for are kept while the statuses are the same
 * objects: at 10,000 SLOs the sort was about 5 ms of CPU per request (docs/benchmarks.md, cost curves).
 */
export class SloPages {
  private seen: readonly SloStatus[] = [];
  private summary: Pick<SloPage, 'states' | 'services'> | undefined;
  /** By sort field and direction: at most twice the sort fields. */
  private readonly orders = new Map<string, readonly SloStatus[]>();

  /** Filter, sort and slice the latest statuses for one page of the overview. */
  page(statuses: readonly SloStatus[], query: SloPageQuery): SloPage {
    if (!sameStatuses(this.seen, statuses)) {
      this.seen = statuses;
      this.summary = undefined;
      this.orders.clear();
    }
    this.summary ??= summarise(statuses);
    let ordered = statuses;
    if (query.sort !== undefined) {
      const key = `${query.sort} ${query.order ?? 'asc'}`;
      ordered = this.orders.get(key) ?? sorted(statuses, query.sort, query.order === 'desc');
      this.orders.set(key, ordered);
    }
    const needle = query.q?.toLowerCase();
    const matched = ordered.filter(
      (status) =>
        (query.service === undefined || status.service === query.service) &&
        (query.state === undefined || status.state === query.state) &&
        (!needle || status.name.toLowerCase().includes(needle)),
    );
    const offset = query.offset ?? 0;
    const end = query.limit === undefined ? undefined : offset + query.limit;
    return { slos: matched.slice(offset, end), total: matched.length, ...this.summary };
  }
}

/** One page of the overview, remembering nothing (SloPages keeps orderings between requests). */
export function sloPage(statuses: readonly SloStatus[], query: SloPageQuery): SloPage {
  return new SloPages().page(statuses, query);
}
