import { DateTime } from 'luxon';
import { isTimeZone } from '../window.js';
import type { AlertPolicySpec, Objective, SliSpec, SloSpec } from './schema.js';

/** A rule broken at a path inside one object. */
export interface RuleViolation {
  path: Array<string | number>;
  reason: string;
  /** Point at the key rather than its value (a missing child is reported at its parent's key). */
  atKey?: boolean;
  /** A lint: valid, but surely not what was meant. */
  warning?: boolean;
}

type Path = Array<string | number>;

/** Field paths as the reference validator prints them: `spec.objectives[0].op`. */
export function fieldName(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    '',
  );
}

/** Exactly one (`required`) or at most one of the named fields is set. */
function exclusive(
  object: Record<string, unknown>,
  fields: readonly string[],
  required: boolean,
  at: Path,
): RuleViolation[] {
  const set = fields.filter((field) => object[field] !== undefined && object[field] !== null);
  if (set.length > 1)
    return [{ path: [...at, set[1]!], reason: `${set.join(' and ')} are mutually exclusive` }];
  if (required && set.length === 0) return [{ path: at, reason: `one of ${fields.join(', ')} is required` }];
  return [];
}

/** The SLI rules (go-sdk sli.go): one metric kind; a ratio has total with good or bad, or raw with rawType. */
export function sliRules(spec: SliSpec, at: Path): RuleViolation[] {
  const violations = exclusive(spec, ['thresholdMetric', 'ratioMetric'], true, at);
  const ratio = spec.ratioMetric;
  if (!ratio) return violations;
  const where = [...at, 'ratioMetric'];
  const shape = [
    ...exclusive(ratio, ['total', 'raw'], true, where),
    ...exclusive(ratio, ['raw', 'good', 'bad'], false, where),
  ];
  if (shape.length > 0) return [...violations, ...shape];
  if (ratio.total) violations.push(...exclusive(ratio, ['good', 'bad'], true, where));
  if (ratio.raw && ratio.rawType === undefined)
    violations.push({ path: [...where, 'rawType'], reason: 'required with raw' });
  return violations;
}

function objectiveRules(
  objective: Objective,
  index: number,
  spec: SloSpec,
  composite: boolean,
): RuleViolation[] {
  const at: Path = ['spec', 'objectives', index];
  const violations = exclusive(objective, ['target', 'targetPercent'], true, at);
  const metric = spec.indicator?.spec;
  if (metric?.ratioMetric) {
    for (const field of ['value', 'op'] as const) {
      if (objective[field] !== undefined)
        violations.push({
          path: [...at, field],
          reason: "property is forbidden when 'indicator.spec.ratioMetric' is set",
        });
    }
  }
  if (metric?.thresholdMetric) {
    for (const field of ['value', 'op'] as const) {
      if (objective[field] === undefined)
        violations.push({
          path: [...at, field],
          reason: "required when 'indicator.spec.thresholdMetric' is set",
        });
    }
  }
  if (spec.budgetingMethod === 'Timeslices' && objective.timeSliceTarget === undefined)
    violations.push({ path: [...at, 'timeSliceTarget'], reason: 'required with budgetingMethod Timeslices' });
  if (spec.budgetingMethod !== 'Occurrences' && objective.timeSliceWindow === undefined)
    violations.push({
      path: [...at, 'timeSliceWindow'],
      reason: `required with budgetingMethod ${spec.budgetingMethod}`,
    });
  if (composite && (objective.indicator || objective.indicatorRef)) {
    violations.push(...exclusive(objective, ['indicator', 'indicatorRef'], true, at));
    if (objective.indicator)
      violations.push(...sliRules(objective.indicator.spec, [...at, 'indicator', 'spec']));
  }
  return violations;
}

/** The SLO rules (go-sdk slo.go) that a schema cannot say. */
export function sloRules(spec: SloSpec): RuleViolation[] {
  const composite = spec.objectives.some((o) => o.indicator !== undefined || o.indicatorRef !== undefined);
  const hasIndicator = spec.indicator !== undefined || spec.indicatorRef !== undefined;
  const violations: RuleViolation[] = [];
  const indicatorRule =
    "'indicator' or 'indicatorRef' fields must either be defined on the 'spec' level (standard SLOs) or on the 'spec.objectives[*]' level (composite SLOs)";
  if (!composite && !hasIndicator)
    violations.push({ path: ['spec'], reason: `${indicatorRule}, but none were provided` });
  if (composite && hasIndicator)
    violations.push({ path: ['spec'], reason: `${indicatorRule}, but not both` });
  violations.push(...exclusive(spec, ['indicator', 'indicatorRef'], false, ['spec']));
  if (spec.indicator) violations.push(...sliRules(spec.indicator.spec, ['spec', 'indicator', 'spec']));
  if (spec.timeWindow?.length !== 1) {
    violations.push({
      path: ['spec', 'timeWindow'],
      reason: `must have exactly 1 item, has ${spec.timeWindow?.length ?? 0}`,
      atKey: true,
    });
  }
  spec.timeWindow?.forEach((window, index) => {
    const at: Path = ['spec', 'timeWindow', index];
    if (window.isRolling && window.calendar)
      violations.push({
        path: [...at, 'calendar'],
        reason: "'calendar' cannot be set when 'isRolling' is true",
      });
    if (!window.isRolling && !window.calendar)
      violations.push({ path: at, reason: "'calendar' must be set when 'isRolling' is false" });
    if (window.calendar && /^\d+[mh]$/.test(window.duration)) {
      violations.push({
        path: [...at, 'duration'],
        reason: `a calendar window of ${window.duration} is ${window.duration.endsWith('m') ? 'minutes' : 'hours'} long; a month is 1M`,
        warning: true,
      });
    }
    if (window.calendar) {
      const start = DateTime.fromFormat(window.calendar.startTime, 'yyyy-MM-dd HH:mm:ss', { zone: 'UTC' });
      if (!start.isValid)
        violations.push({
          path: [...at, 'calendar', 'startTime'],
          reason: `"${window.calendar.startTime}" is not a date-time of the form 2006-01-02 15:04:05`,
        });
      if (!isTimeZone(window.calendar.timeZone))
        violations.push({
          path: [...at, 'calendar', 'timeZone'],
          reason: `"${window.calendar.timeZone}" is not an IANA Time Zone Database name (e.g. 'UTC', 'America/New_York')`,
        });
    }
  });
  spec.objectives.forEach((objective, index) => {
    violations.push(...objectiveRules(objective, index, spec, composite));
  });
  spec.alertPolicies?.forEach((policy, index) => {
    const at: Path = ['spec', 'alertPolicies', index];
    violations.push(...refOrInlineRules(policy, 'alertPolicyRef', 'AlertPolicy', at));
    if (policy.spec) violations.push(...alertPolicyRules(policy.spec as AlertPolicySpec, [...at, 'spec']));
  });
  return violations;
}

function refOrInlineRules(
  item: Record<string, unknown>,
  ref: string,
  kind: string,
  at: Path,
): RuleViolation[] {
  const inline = item.kind !== undefined || item.metadata !== undefined || item.spec !== undefined;
  if (item[ref] !== undefined && inline)
    return [{ path: [...at, ref], reason: `${ref} and spec are mutually exclusive` }];
  if (item[ref] === undefined && !inline) return [{ path: at, reason: `one of ${ref}, spec is required` }];
  if (!inline) return [];
  return (['kind', 'metadata', 'spec'] as const).flatMap((field) =>
    item[field] === undefined
      ? [{ path: [...at, field], reason: field === 'kind' ? `required (${kind})` : 'required' }]
      : [],
  );
}

/** AlertPolicy (go-sdk alert_policy.go): each condition and target is a reference or an inline object. */
export function alertPolicyRules(spec: AlertPolicySpec, at: Path): RuleViolation[] {
  return [
    ...spec.conditions.flatMap((condition, index) =>
      refOrInlineRules(condition, 'conditionRef', 'AlertCondition', [...at, 'conditions', index]),
    ),
    ...spec.notificationTargets.flatMap((target, index) =>
      refOrInlineRules(target, 'targetRef', 'AlertNotificationTarget', [...at, 'notificationTargets', index]),
    ),
  ];
}
