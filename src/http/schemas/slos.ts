import Type from 'typebox';
import { MAX_LABEL_KEYS, SLO_SORT_FIELDS, SLO_STATES } from '../../evaluate/sloPage.js';
import { Answer, errors, Nullable, OptionalTime } from './common.js';

const Severity = Type.Union([Type.Literal('page'), Type.Literal('ticket')]);
/** Burn rate per window name (1h, 5m...); null without valid events in the window. */
export const BurnRates = Type.Record(Type.String(), Nullable(Type.Number()));
export const SloState = Type.Enum([...SLO_STATES]);

/** An SloStatus as the API shows it (http/views.ts statusView). */
const sloStatusFields = {
  name: Type.String(),
  service: Type.String(),
  indicator: Type.Union([Type.Literal('availability'), Type.Literal('latency')]),
  objective: Type.Number(),
  objective_percent: Type.Number(),
  window: Type.String(),
  window_start: OptionalTime,
  window_end: OptionalTime,
  budgeting: Type.Enum(['occurrences', 'timeslices', 'ratio-timeslices']),
  slices: Nullable(
    Answer({
      slice_seconds: Type.Number(),
      total: Type.Number(),
      valid: Type.Number(),
      good: Type.Number(),
      bad: Type.Number(),
      ratio_sum: Type.Number(),
    }),
  ),
  warnings: Type.Array(Type.String()),
  state: SloState,
  min_valid_events: Type.Number(),
  enough_data: Type.Boolean(),
  sli: Nullable(Type.Number()),
  sli_error_bound: Type.Number(),
  good: Type.Number(),
  valid: Type.Number(),
  budget: Answer({
    allowed: Type.Number(),
    consumed: Type.Number(),
    remaining: Type.Number(),
    consumed_ratio: Nullable(Type.Number()),
    remaining_ratio: Nullable(Type.Number()),
    allowed_downtime_seconds: Type.Number(),
  }),
  burn_rates: BurnRates,
  alerts: Type.Array(
    Answer({
      severity: Severity,
      long_window: Type.String(),
      short_window: Type.String(),
      factor: Type.Number(),
      long_burn_rate: Nullable(Type.Number()),
      short_burn_rate: Nullable(Type.Number()),
      state: Type.String(),
    }),
  ),
  firing: Nullable(Severity),
  time_to_exhaustion_seconds: Nullable(Type.Number()),
  last_observation_at: OptionalTime,
  evaluated_at: OptionalTime,
  stale: Type.Boolean(),
  stale_reason: Type.Optional(Type.String()),
  // What the SLO's definition says about it (http/views.ts sloInfoView).
  display_name: Nullable(Type.String({ description: 'metadata.displayName; null when the SLO names none' })),
  description: Nullable(Type.String({ description: 'spec.description; null when the SLO has none' })),
  labels: Type.Record(Type.String(), Type.String(), { description: 'metadata.labels, {} when none' }),
  runbook: Nullable(
    Type.String({ description: "runbook or playbook URL: the SLO's own, else its service's" }),
  ),
  owner: Nullable(Type.String({ description: "owning team: the SLO's own, else its service's" })),
};
export const SloStatusView = Answer(sloStatusFields);

/** The most SLOs one page holds (docs/api.md#slo-list). */
export const MAX_PAGE = 1000;
/** Far past any real SLO count, so an offset cannot be a number the arithmetic mishandles. */
const MAX_OFFSET = 1_000_000;
/** Labels one list request may filter by, and the length of each `key:value`. */
const MAX_LABEL_FILTERS = 10;
const MAX_LABEL_LENGTH = 400;

/** Paging, filters and sort of the SLO list; without any, every SLO in definition order as always. */
export const SloListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: 'SLOs per page' })),
  offset: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_OFFSET, description: 'matching SLOs to skip' }),
  ),
  sort: Type.Optional(Type.Enum([...SLO_SORT_FIELDS], { description: 'column; nulls sort last' })),
  order: Type.Optional(Type.Enum(['asc', 'desc'], { description: 'default asc' })),
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'exact service' })),
  state: Type.Optional(SloState),
  q: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'case-insensitive substring of the name' }),
  ),
  label: Type.Optional(
    Type.Array(
      Type.String({
        // A key without colons, then the value (which may hold colons); linear to match.
        pattern: '^[^:]+:',
        maxLength: MAX_LABEL_LENGTH,
        description: '`key:value`; repeat for more labels, all must match',
      }),
      { minItems: 1, maxItems: MAX_LABEL_FILTERS },
    ),
  ),
  group: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'a label key: SLOs grouped by its value' }),
  ),
});

export const SloList = {
  200: Answer({
    slos: Type.Array(SloStatusView),
    total: Type.Integer({ description: 'SLOs matching the filters, before offset and limit' }),
    states: Answer(
      {
        ok: Type.Integer(),
        warning: Type.Integer(),
        exhausted: Type.Integer(),
        'insufficient-data': Type.Integer(),
        'no-data': Type.Integer(),
      },
      'SLOs per state over all SLOs, whatever the filters',
    ),
    services: Type.Array(Type.String(), { description: 'every service with an SLO, sorted' }),
    firing: Answer(
      { page: Type.Integer(), ticket: Type.Integer() },
      'SLOs whose highest firing burn-rate tier is a page, or a ticket, over all SLOs',
    ),
    label_values: Type.Record(Type.String(), Type.Array(Type.String()), {
      description: `every label key with its values, sorted (at most ${MAX_LABEL_KEYS} keys)`,
    }),
    groups: Type.Optional(
      Type.Array(Answer({ value: Nullable(Type.String()), count: Type.Integer() }), {
        description:
          'with `group`: the groups of the matching SLOs in the order listed (null: without the label)',
      }),
    ),
  }),
};
export const SloOne = {
  200: Answer({
    ...sloStatusFields,
    breakdown_available: Type.Boolean({
      description:
        'whether `/breakdown` ranks its series (false when the SLO is read with PromQL from an engine)',
    }),
    components: Nullable(
      Type.Array(
        Answer({
          name: Type.String(),
          display_name: Nullable(Type.String()),
          weight: Type.Number({ description: 'share of the composite, weights summing to 1' }),
          objective: Type.Number(),
          sli: Nullable(Type.Number()),
          budget_remaining: Nullable(Type.Number()),
          state: Nullable(SloState),
        }),
        { description: "a composite's components, each with its own SLO's status; null for other SLOs" },
      ),
    ),
  }),
  ...errors(404),
};

const Point = Answer({
  t: OptionalTime,
  sli: Nullable(Type.Number()),
  good: Type.Number(),
  valid: Type.Number(),
  budget_remaining: Nullable(Type.Number()),
  burn_rates: BurnRates,
  firing: Nullable(Severity),
  requests_per_second: Type.Number(),
  errors_per_second: Type.Number(),
  bad_per_second: Type.Number(),
  coverage: Type.Number({
    minimum: 0,
    maximum: 1,
    description:
      'share of the step its counts cover: below 1 for a step ending in a minute that is not over (the *_per_second figures divide the covered events by the whole step)',
  }),
});

/** An SLO over time, for the dashboard's charts. */
export const SloTimeseries = {
  200: Answer({
    name: Type.String(),
    service: Type.String(),
    indicator: Type.Union([Type.Literal('availability'), Type.Literal('latency')]),
    objective: Type.Number(),
    window: Type.String(),
    from: OptionalTime,
    to: OptionalTime,
    step_seconds: Type.Number(),
    step: Type.String(),
    points: Type.Array(Point),
    alert_episodes: Type.Array(
      Answer({ severity: Severity, started_at: OptionalTime, ended_at: OptionalTime }),
    ),
    deployments: Type.Array(
      Answer({
        id: Type.String(),
        version: Type.String(),
        environment: Type.String(),
        deployed_at: OptionalTime,
        decision_id: Nullable(Type.String()),
        decision: Nullable(Type.String()),
        budget_burned_1h: Nullable(Type.Number()),
        budget_burned_1d: Nullable(Type.Number()),
      }),
    ),
    open_alert: Nullable(
      Answer({
        id: Type.String(),
        level: Type.String(),
        notified_level: Type.String(),
        started_at: OptionalTime,
      }),
    ),
    corrections: Type.Array(
      Answer({
        mode: Type.Union([Type.Literal('exclude'), Type.Literal('planned')]),
        start: OptionalTime,
        end: OptionalTime,
      }),
    ),
    composite: Nullable(
      Answer({
        components: Type.Array(
          Answer({ name: Type.String(), weight: Type.Number(), objective: Type.Number() }),
        ),
      }),
    ),
    latency: Nullable(
      Answer({
        threshold_seconds: Type.Number(),
        bins: Type.Array(Answer({ le_seconds: Type.Number(), count: Type.Number() })),
      }),
    ),
  }),
  ...errors(404, 503),
};
