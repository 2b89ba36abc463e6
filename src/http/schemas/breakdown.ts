import Type from 'typebox';
import { BREAKDOWN_SORTS } from '../../evaluate/breakdown.js';
import { Answer, errors, Nullable, OptionalTime } from './common.js';

/** The most series one group lists, and the most sparkline steps. */
export const MAX_BREAKDOWN_LIMIT = 100;
export const MAX_BREAKDOWN_STEPS = 120;

export const BreakdownQuery = Type.Object({
  from: Type.Optional(Type.String({ description: 'RFC 3339 or Unix seconds; default: the SLO window back' })),
  to: Type.Optional(Type.String({ description: 'RFC 3339 or Unix seconds; default: now' })),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_BREAKDOWN_LIMIT, description: 'series per group, default 10' }),
  ),
  steps: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_BREAKDOWN_STEPS, description: 'sparkline steps, default 24' }),
  ),
  sort: Type.Optional(
    Type.Enum([...BREAKDOWN_SORTS], {
      description: '`bad` (default): most bad events first; `sli`: lowest SLI',
    }),
  ),
});

const Counts = {
  valid: Type.Number(),
  bad: Type.Number(),
  error_bound: Type.Number({ description: 'latency from histograms: how many events could be misjudged' }),
  sli: Nullable(Type.Number()),
};

/** Where to look next: the traces and log lines of the range (docs/dashboard.md#links-to-traces-and-logs). */
const Links = Answer({
  traces: Nullable(Type.String({ description: 'a trace search (the Zipkin UI by default for trace SLOs)' })),
  logs: Nullable(Type.String({ description: 'a log search, from a configured template' })),
});

const Series = Answer({
  kind: Type.String({ description: 'loadbalancer, traces or otlp-metrics' }),
  source: Type.String({ description: 'collector (load balancer) or span kind (traces)' }),
  route: Type.String(),
  method: Type.String(),
  ...Counts,
  bad_share: Nullable(Type.Number({ description: "of the group's bad events over the range" })),
  budget_share: Nullable(
    Type.Number({ description: 'of the budget the range allowed; null for slice budgeting' }),
  ),
  sparkline: Type.Array(Nullable(Type.Number()), { description: 'SLI per step; null without events' }),
  links: Links,
});

const Group = Answer({
  component: Nullable(Answer({ name: Type.String(), weight: Type.Number() })),
  objective: Type.Number(),
  ...Counts,
  allowed_bad: Type.Number(),
  budget_spent: Nullable(Type.Number({ description: 'bad ÷ allowed bad; null for slice budgeting' })),
  series_count: Type.Integer(),
  links: Links,
  series: Type.Array(Series),
});

/** Which series spent an SLO's budget over a range (docs/api.md#budget-breakdown). */
export const SloBreakdown = {
  200: Answer({
    name: Type.String(),
    service: Type.String(),
    indicator: Type.Union([Type.Literal('availability'), Type.Literal('latency')]),
    budgeting: Type.String(),
    from: OptionalTime,
    to: OptionalTime,
    step_seconds: Type.Number(),
    sort: Type.Enum([...BREAKDOWN_SORTS]),
    groups: Type.Array(Group),
  }),
  ...errors(404, 422),
};
