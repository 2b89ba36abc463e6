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

/** Orderings kept between ticks: every sort field both ways, and a few group keys. */
const MAX_ORDERS = 4 * SLO_SORT_FIELDS.length;

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

/** One label an SLO must carry, `key:value` in the query (docs/api.md#slo-list). */
export interface LabelMatch {
  key: string;
  value: string;
}

/** The labels of each SLO by name (the loaded definitions); an SLO it does not know has none. */
export type LabelsByName = ReadonlyMap<string, { readonly labels: Readonly<Record<string, string>> }>;

/** Bounds of the label summary: however many labels the SLOs carry, the answer stays small. */
export const MAX_LABEL_KEYS = 100;
export const MAX_LABEL_VALUES = 200;

/** `team:games` → { key: 'team', value: 'games' }; the value may hold colons, the key may not. */
export function parseLabelMatch(text: string): LabelMatch | null {
  const colon = text.indexOf(':');
  if (colon < 1) return null;
  return { key: text.slice(0, colon), value: text.slice(colon + 1) };
}

export interface SloPageQuery {
  service?: string;
  /** Labels every SLO shown carries (all of them). */
  labels?: readonly LabelMatch[];
  /** A label key: SLOs come grouped by its value (SLOs without it last), then in the asked order. */
  group?: string;
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
  /** SLOs whose highest firing burn-rate tier is a page, or a ticket, over all SLOs. */
  firing: { page: number; ticket: number };
  /** Every label key with its values, sorted (the overview's label filter); at most MAX_LABEL_KEYS keys. */
  labelValues: Record<string, string[]>;
  /** With `group`: the groups of the matching SLOs in the order shown, each with its SLO count. */
  groups?: { value: string | null; count: number }[];
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

type Summary = Pick<SloPage, 'states' | 'services' | 'firing' | 'labelValues'>;

const NO_LABELS: Readonly<Record<string, string>> = {};
const UNLABELLED: LabelsByName = new Map();

/** The SLO's value of a label; own keys only, so `constructor` or `__proto__` in a query is just absent. */
function labelValue(labels: LabelsByName, name: string, key: string): string | null {
  const own = labels.get(name)?.labels;
  return own !== undefined && Object.hasOwn(own, key) ? (own[key] ?? null) : null;
}

/** Every label key and its values, capped so that SLOs with unique labels cannot grow the answer unbounded. */
function labelValuesOf(statuses: readonly SloStatus[], labels: LabelsByName): Record<string, string[]> {
  const values = new Map<string, Set<string>>();
  for (const status of statuses) {
    for (const [key, value] of Object.entries(labels.get(status.name)?.labels ?? NO_LABELS)) {
      let seen = values.get(key);
      if (!seen) {
        if (values.size >= MAX_LABEL_KEYS) continue;
        seen = new Set();
        values.set(key, seen);
      }
      if (seen.size < MAX_LABEL_VALUES) seen.add(value);
    }
  }
  return Object.fromEntries(
    [...values.keys()].sort(byCodePoint).map((key) => [key, [...(values.get(key) ?? [])].sort(byCodePoint)]),
  );
}

/** Worst-first summary over all SLOs, whatever the filters. */
function summarise(statuses: readonly SloStatus[], labels: LabelsByName): Summary {
  const states = Object.fromEntries(SLO_STATES.map((state) => [state, 0])) as Record<SloState, number>;
  const firing = { page: 0, ticket: 0 };
  const services = new Set<string>();
  for (const status of statuses) {
    states[status.state]++;
    if (status.firing) firing[status.firing]++;
    services.add(status.service);
  }
  return {
    states,
    services: [...services].sort(byCodePoint),
    firing,
    labelValues: labelValuesOf(statuses, labels),
  };
}

/** Stable: within a group the order stays the asked one; SLOs without the label come last. */
function grouped(statuses: readonly SloStatus[], key: string, labels: LabelsByName): SloStatus[] {
  return statuses
    .map((status) => ({ status, value: labelValue(labels, status.name, key) }))
    .sort((a, b) =>
      a.value === b.value ? 0 : a.value === null ? 1 : b.value === null ? -1 : byCodePoint(a.value, b.value),
    )
    .map((entry) => entry.status);
}

/** Runs of equal group values in an ordered list (grouped() made them adjacent). */
function groupCounts(statuses: readonly SloStatus[], key: string, labels: LabelsByName): SloPage['groups'] {
  const groups: NonNullable<SloPage['groups']> = [];
  for (const status of statuses) {
    const value = labelValue(labels, status.name, key);
    const last = groups.at(-1);
    if (last && last.value === value) last.count++;
    else groups.push({ value, count: 1 });
  }
  return groups;
}

function carriesAll(labels: LabelsByName, name: string, matches: readonly LabelMatch[]): boolean {
  return matches.every((match) => labelValue(labels, name, match.key) === match.value);
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
  private seenLabels: LabelsByName | undefined;
  private summary: Summary | undefined;
  /** By sort field, direction and group key; cleared past MAX_ORDERS (group keys come from requests). */
  private readonly orders = new Map<string, readonly SloStatus[]>();

  private ordering(statuses: readonly SloStatus[], query: SloPageQuery, labels: LabelsByName) {
    if (query.sort === undefined && query.group === undefined) return statuses;
    const key = `${query.sort ?? ''} ${query.order ?? 'asc'} ${query.group ?? ''}`;
    let ordered = this.orders.get(key);
    if (!ordered) {
      ordered = query.sort === undefined ? statuses : sorted(statuses, query.sort, query.order === 'desc');
      if (query.group !== undefined) ordered = grouped(ordered, query.group, labels);
      if (this.orders.size >= MAX_ORDERS) this.orders.clear();
      this.orders.set(key, ordered);
    }
    return ordered;
  }

  /** Filter, sort and slice the latest statuses for one page of the overview. */
  page(statuses: readonly SloStatus[], query: SloPageQuery, labels: LabelsByName = UNLABELLED): SloPage {
    if (!sameStatuses(this.seen, statuses) || this.seenLabels !== labels) {
      this.seen = statuses;
      this.seenLabels = labels;
      this.summary = undefined;
      this.orders.clear();
    }
    this.summary ??= summarise(statuses, labels);
    const ordered = this.ordering(statuses, query, labels);
    const needle = query.q?.toLowerCase();
    const matches = query.labels ?? [];
    const matched = ordered.filter(
      (status) =>
        (query.service === undefined || status.service === query.service) &&
        (query.state === undefined || status.state === query.state) &&
        (!needle || status.name.toLowerCase().includes(needle)) &&
        (matches.length === 0 || carriesAll(labels, status.name, matches)),
    );
    const offset = query.offset ?? 0;
    const end = query.limit === undefined ? undefined : offset + query.limit;
    return {
      slos: matched.slice(offset, end),
      total: matched.length,
      ...this.summary,
      ...(query.group !== undefined && { groups: groupCounts(matched, query.group, labels) }),
    };
  }
}

/** One page of the overview, remembering nothing (SloPages keeps orderings between requests). */
export function sloPage(statuses: readonly SloStatus[], query: SloPageQuery, labels?: LabelsByName): SloPage {
  return new SloPages().page(statuses, query, labels);
}
