import Type from 'typebox';
import { Answer, errors, IsoTime, Nullable, OptionalTime } from './common.js';
import { DeploymentFields } from './gate.js';

/** Incidents, reliability and delivery (issue 19; docs/incidents.md). Durations are seconds, budgets 0..1. */

const Severity = Type.Union([Type.Literal('page'), Type.Literal('ticket')]);
const Seconds = Nullable(Type.Number({ description: 'seconds; null when nothing was measured' }));
const Range = { from: Type.Optional(Type.String()), to: Type.Optional(Type.String()) };

export const IncidentQuery = Type.Object({
  service: Type.Optional(Type.String({ maxLength: 256 })),
  slo: Type.Optional(Type.String({ maxLength: 256 })),
  ...Range,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
});

const Deployment = Answer(DeploymentFields);

const Episode = Answer({
  id: Type.String(),
  slo: Type.String(),
  slo_display_name: Nullable(Type.String({ description: "the SLO's displayName; null when it has none" })),
  slo_labels: Type.Record(Type.String(), Type.String(), { description: "the SLO's labels, {} when none" }),
  severity: Severity,
  burn_started_at: IsoTime,
  detected_at: IsoTime,
  escalations: Type.Array(Answer({ severity: Severity, at: IsoTime })),
  resolved_at: OptionalTime,
  peak_burn_rate: Nullable(Type.Number()),
  budget_consumed: Nullable(Type.Number()),
});

export const Incident = Answer({
  id: Type.String(),
  service: Type.String(),
  started_at: IsoTime,
  detected_at: IsoTime,
  resolved_at: OptionalTime,
  duration_seconds: Seconds,
  severity: Severity,
  peak_burn_rate: Nullable(Type.Number()),
  budget_consumed: Nullable(Type.Number()),
  postmortem_required: Type.Boolean(),
  runbook: Nullable(Type.String()),
  owner: Nullable(Type.String()),
  episodes: Type.Array(Episode),
  suspected_deployments: Type.Array(Deployment),
  following_deployments: Type.Array(Deployment),
});

export const IncidentList = {
  200: Answer({ incidents: Type.Array(Incident), total: Type.Integer() }),
  ...errors(400),
};

export const ReliabilityQuery = Type.Object(Range);
export const ServiceName = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });

const Figures = {
  incident_count: Type.Integer(),
  mttr_seconds: Answer({ from_detection: Seconds, from_start: Seconds }),
  mttf_seconds: Seconds,
  mtbf_seconds: Seconds,
  mean_time_to_detect_seconds: Seconds,
  budget_consumed_per_incident: Nullable(Type.Number()),
  postmortems_required: Type.Integer(),
};

export const Reliability = {
  200: Answer({
    service: Type.String(),
    from: IsoTime,
    to: IsoTime,
    ...Figures,
    slos: Type.Array(Answer({ name: Type.String(), ...Figures })),
  }),
  ...errors(400, 404),
};

export const DeliveryQuery = Type.Object({
  service: Type.Optional(Type.String({ maxLength: 256 })),
  environment: Type.Optional(Type.String({ maxLength: 128 })),
  ...Range,
});

export const Delivery = {
  200: Answer({
    from: IsoTime,
    to: IsoTime,
    services: Type.Array(
      Answer({
        service: Type.String(),
        environment: Nullable(Type.String()),
        deployments: Type.Integer(),
        deployments_per_day: Type.Number(),
        lead_time_seconds: Answer({ median: Seconds, p90: Seconds, samples: Type.Integer() }),
        change_failure_rate: Nullable(Type.Number()),
        failed_deployments: Type.Integer(),
        time_to_restore_seconds: Seconds,
      }),
    ),
  }),
  ...errors(400),
};
