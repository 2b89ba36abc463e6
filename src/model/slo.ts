import type { EventRules } from './eventRules.js';
import type { SourceLocation } from './location.js';
import type { SourceKind } from './observation.js';
import type { PromQlIndicator } from './promql.js';

/** What makes an event good. Availability: status < 500 (the seed). Latency: duration ≤ threshold. */
export type GoodCondition = { kind: 'availability' } | { kind: 'latency'; thresholdUs: number; text: string };

export interface SeriesSelector {
  /** Route template (operation); omitted matches all. */
  route?: string;
  /** Upper-case HTTP method; omitted matches all. */
  method?: string;
  /** Trace data only: the span kinds that count (series `source`); omitted means server spans. */
  spanKinds?: readonly string[];
  /** Service of the series when it differs from the SLO's (an OpenSLO metric source may name another). */
  service?: string;
  /** Collector name (`?source=` at ingest); omitted matches all. */
  collector?: string;
}

export interface Indicator {
  /** `prometheus`: read with PromQL from a Prometheus-compatible engine (`prometheus` holds the queries). */
  source: SourceKind | 'prometheus';
  select: SeriesSelector;
  good: GoodCondition;
  /**
   * Availability by other rules than the seed's (status sets, exclusions), under the id ingest counts them by;
   * absent for the seed's "status < 500, nothing left out".
   */
  rules?: EventRules & { id: number };
  prometheus?: PromQlIndicator;
}

/** Calendar units a window can be aligned to; minute, hour and day periods come from OpenSLO shorthands. */
export type CalendarUnit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

/**
 * The SLO window. Rolling: the last `ms`. Calendar: the current period of `count` units in an IANA zone,
 * counted from `anchor` (local wall time `yyyy-MM-dd HH:mm:ss`; default the unit's natural start).
 */
export type WindowSpec =
  | { kind: 'rolling'; ms: number }
  | { kind: 'calendar'; unit: CalendarUnit; count: number; timeZone: string; anchor?: string };

export type BudgetingMethod = 'occurrences' | 'timeslices' | 'ratio-timeslices';

/** Time slices for the slice budgeting methods; `target` is the SLI a slice needs to be good (timeslices). */
export interface TimeSlices {
  sliceMs: number;
  target?: number;
}

/** One part of a composite SLO: its indicator, its weight and the objective its error rate is judged by. */
export interface CompositeComponent {
  name: string;
  indicator: Indicator;
  weight: number;
  objective: number;
}

/** What an SLO or its service names as the way to act on an alert. */
export interface Ownership {
  runbook: string | null;
  owner: string | null;
}

/** A validated SLO, whatever file format it came from. */
export interface SloDefinition {
  name: string;
  service: string;
  displayName?: string;
  description?: string;
  labels: Record<string, string>;
  /** Runbook or playbook URL and owning team (the SLO's own, else its service's GatePolicy's); every alert carries them. */
  runbook?: string;
  owner?: string;
  /** For a composite, the first component's indicator (what the SLO is mostly about); see `composite`. */
  indicator: Indicator;
  /** Target as a ratio (0.9995), and as written (99.95). */
  objective: number;
  objectivePercent: number;
  /** Overrides the valid events a window needs before its budget is judged (default: one allowed bad event). */
  minValidEvents?: number;
  /** Nominal window length (a calendar month counts 30 days, as OpenSLO's `1M`); scales burn-rate tiers. */
  windowMs: number;
  /** The window for display: `28d`, or `1 month (Europe/Berlin)`. */
  window: string;
  windowSpec: WindowSpec;
  budgeting: BudgetingMethod;
  timeslices?: TimeSlices;
  /** Present for composite SLOs: the components whose weighted burn is this SLO's burn. */
  composite?: { components: CompositeComponent[] };
  /** Where it came from: `sloguard/v1` or `openslo/v1`. */
  format: 'native' | 'openslo';
  location: SourceLocation;
  /** Where its name is written, for duplicate-name errors. */
  nameLocation?: SourceLocation;
  /** Where fields that lints speak of are written (`objective`, `window`, `budgeting`), so warnings point there. */
  fieldLocations?: Partial<Record<'objective' | 'window' | 'budgeting', SourceLocation>>;
}

/** Every indicator an SLO reads: its own, or each component's. */
export function indicatorsOf(definition: SloDefinition): Indicator[] {
  return definition.composite
    ? definition.composite.components.map((c) => c.indicator)
    : [definition.indicator];
}

/** Whether sloguard keeps the SLO's series itself; an engine read with PromQL keeps them there instead. */
export function seriesKeptLocally(definition: SloDefinition): boolean {
  return indicatorsOf(definition).every((indicator) => indicator.source !== 'prometheus');
}
