import Type from 'typebox';
import { CHANGE_TYPES } from '../../model/gate.js';
import { Answer, ErrorBody, errors, IsoTime, Nullable, OptionalTime } from './common.js';
import { BurnRates, SloState } from './slos.js';

/** Our gate fields, as a query string or a JSON body. */
const GateFields = {
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  environment: Type.Optional(Type.String({ maxLength: 128 })),
  version: Type.Optional(Type.String({ maxLength: 256 })),
  sha: Type.Optional(Type.String({ maxLength: 256 })),
  change_type: Type.Optional(Type.String()),
  run_url: Type.Optional(Type.String({ maxLength: 2048 })),
  commit_at: Type.Optional(
    Type.String({ maxLength: 64, description: 'when the change was committed (RFC 3339 or Unix seconds)' }),
  ),
};
export const GateQuery = Type.Object({ ...GateFields, codes: Type.Optional(Type.Literal('body')) });
/** Our fields, or Flagger's webhook payload unchanged (name, namespace, phase, checksum, metadata). */
const FlaggerFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  namespace: Type.Optional(Type.String({ maxLength: 256 })),
  phase: Type.Optional(Type.String({ maxLength: 64 })),
  checksum: Type.Optional(Type.String({ maxLength: 256 })),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
};
export const GateBody = Type.Union([Type.Object({ ...GateFields, ...FlaggerFields }), Type.Null()]);
export const EvaluationBody = Type.Object({
  ...GateFields,
  ...FlaggerFields,
  wait: Type.Optional(Type.String({ maxLength: 16 })),
});

const Decision = Type.Enum(['allow', 'warn', 'deny', 'error']);
const ChangeType = Type.Enum(CHANGE_TYPES);

/** A break-glass override as the gate's answer names it. */
const OverrideFields = {
  id: Type.String(),
  actor: Type.String(),
  reason: Type.String(),
  ticket: Type.String(),
  expires_at: IsoTime,
};

/** The gate's answer (gate/answer.ts): every caller reads this same JSON. */
export const GateAnswer = Answer({
  allowed: Type.Boolean(),
  decision: Decision,
  reason: Type.String(),
  mode: Type.Union([Type.Literal('enforce'), Type.Literal('observe')]),
  would_block: Type.Boolean(),
  service: Type.String(),
  environment: Nullable(Type.String()),
  version: Nullable(Type.String()),
  change_type: ChangeType,
  slos: Type.Array(
    Answer({
      name: Type.String(),
      window: Type.String(),
      objective: Type.Number(),
      sli: Nullable(Type.Number()),
      budget_remaining: Nullable(Type.Number()),
      burn_rates: BurnRates,
      firing: Nullable(Type.Union([Type.Literal('page'), Type.Literal('ticket')])),
      state: SloState,
    }),
  ),
  override: Nullable(Answer(OverrideFields)),
  exemption: Nullable(ChangeType),
  frozen: Type.Boolean(),
  policy: Nullable(Type.String({ description: 'the GatePolicy applied; null for the documented defaults' })),
  decision_id: Type.String(),
  decided_at: IsoTime,
  evaluated_at: IsoTime,
  stale: Type.Boolean(),
  /** The statuses are those the last run stored (this process's first evaluation is under way); stale too. */
  from_last_run: Type.Boolean(),
});

/** 200 allow or warn, 423 deny, 503 when the gate cannot decide; `?codes=body` answers 200 whatever it decided. */
export const GateAnswers = {
  200: GateAnswer,
  423: GateAnswer,
  503: Type.Union([GateAnswer, ErrorBody], { description: 'the gate cannot decide (decision: error)' }),
};

/** An asynchronous evaluation, as Spinnaker's webhook stage polls it. */
const Evaluation = Answer({
  id: Type.String(),
  status: Type.Enum(['RUNNING', 'SUCCEEDED', 'TERMINAL']),
  decision: Nullable(Decision),
  allowed: Type.Boolean(),
  reason: Nullable(Type.String()),
  created_at: OptionalTime,
  deadline: OptionalTime,
  decided_at: OptionalTime,
  answer: Nullable(GateAnswer),
});
export const EvaluationStarted = { 202: Evaluation };
export const EvaluationPolled = { 200: Evaluation, ...errors(404) };

export const DecisionList = {
  200: Answer({
    decisions: Type.Array(
      Answer({
        decision_id: Type.String(),
        decided_at: OptionalTime,
        service: Type.String(),
        environment: Nullable(Type.String()),
        version: Nullable(Type.String()),
        change_type: Type.String(),
        decision: Type.String(),
        reason: Type.String(),
        request: Type.Unknown({ description: 'the gate request as the gate read it' }),
        answer: Type.Record(Type.String(), Type.Unknown(), {
          description: 'the answer given, with the SLO statuses it was based on as `statuses`',
        }),
      }),
    ),
  }),
};

export const FreezeList = {
  200: Answer({
    freezes: Type.Array(
      Answer({
        service: Type.String(),
        environment: Nullable(Type.String()),
        frozen: Type.Boolean(),
        changed_at: OptionalTime,
      }),
    ),
  }),
};

/** A break-glass override as its routes list it. */
const Override = Answer({
  ...OverrideFields,
  service: Type.String(),
  environment: Type.String(),
  sha: Nullable(Type.String()),
  created_at: OptionalTime,
  revoked_at: OptionalTime,
  revoked_by: Nullable(Type.String()),
  active: Type.Boolean(),
});
export const OverrideCreated = { 201: Override };
export const OverrideOne = { 200: Override, ...errors(404) };
export const OverrideList = { 200: Answer({ overrides: Type.Array(Override) }) };

const Period = Answer({
  valid: Type.Number(),
  bad: Type.Number(),
  charged_bad: Type.Number(),
  baseline_error_ratio: Nullable(Type.Number()),
  budget_burned: Nullable(Type.Number()),
  complete: Type.Boolean(),
});
/** A deployment marker with the error budget burned in the hour and the day after it. */
/** A release marker's own fields (http/views.ts `deploymentView`). */
export const DeploymentFields = {
  id: Type.String(),
  service: Type.String(),
  environment: Nullable(Type.String()),
  version: Type.String(),
  deployed_at: OptionalTime,
  decision_id: Nullable(Type.String()),
  source: Type.Union([Type.Literal('api'), Type.Literal('gate')]),
  change_type: ChangeType,
  commit_at: Nullable(IsoTime),
};
const Deployment = Answer({
  ...DeploymentFields,
  impact: Type.Array(Answer({ slo: Type.String(), hour_after: Period, day_after: Period })),
});
export const DeploymentCreated = { 201: Deployment };
export const DeploymentList = { 200: Answer({ deployments: Type.Array(Deployment) }) };
