import { stringify } from 'yaml';
import { formatDuration } from '../config/duration.js';
import { withWindow } from '../definitions/promqlSource.js';
import { allowedErrorRatio, type BurnRateTier, burnRateTiers, burnWindows } from '../evaluate/math.js';
import type { SloDefinition } from '../model/slo.js';
import { type NativeQueries, nativeQueries } from '../sources/engine/queries.js';

/** A Prometheus rule file (`rule_files:`), as `promtool check rules` reads it. */
export interface RuleFile {
  groups: RuleGroup[];
}
export interface RuleGroup {
  name: string;
  rules: Rule[];
}
export type Rule =
  | { record: string; expr: string; labels: Record<string, string> }
  | { alert: string; expr: string; labels: Record<string, string>; annotations: Record<string, string> };

export interface RuleOptions {
  /** Judge every SLO over this window instead of its own (Sloth's default SLO period). */
  windowMs?: number;
  /** Also native SLOs (not composites), over the series sloguard collectors write (docs/scaling.md). */
  native?: boolean;
}

/** The recording rule of the error ratio over a window: `slo:sli_error:ratio_rate5m`. */
export const errorRatioRecord = (window: string) => `slo:sli_error:ratio_rate${window}`;

/** The error ratio over one window from the SLI's queries: bad ÷ total, or 1 − good ÷ total. */
export function errorRatioExpr(indicator: NativeQueries, window: string): string {
  const total = withWindow(indicator.total, window);
  if (indicator.bad !== undefined) return `(${withWindow(indicator.bad, window)})\n/\n(${total})`;
  return `1 - (\n  (${withWindow(indicator.good!, window)})\n  /\n  (${total})\n)`;
}

/**
 * Label names follow Sloth's (`sloth_id`, `sloth_service`, `sloth_slo`, `sloth_window`) so the rules work
 * with the Grafana dashboards and tooling already written for Sloth's output.
 */
function identity(definition: SloDefinition): Record<string, string> {
  return {
    sloth_id: `${definition.service}-${definition.name}`,
    sloth_service: definition.service,
    sloth_slo: definition.name,
  };
}

const selector = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ')}}`;

/** Both windows of a tier above its factor, window label dropped so the two sides match. */
function tierExpr(tier: BurnRateTier, errorBudget: number, select: string): string {
  const threshold = `(${tier.factor} * ${errorBudget})`;
  const side = (window: string) =>
    `max(${errorRatioRecord(window)}${select} > ${threshold}) without (sloth_window)`;
  return `(\n  ${side(tier.shortWindow)}\n  and\n  ${side(tier.longWindow)}\n)`;
}

function sloGroups(definition: SloDefinition, indicator: NativeQueries, options: RuleOptions): RuleGroup[] {
  const windowMs = options.windowMs ?? definition.windowMs;
  const period = formatDuration(windowMs);
  const labels = identity(definition);
  const select = selector(labels);
  const errorBudget = allowedErrorRatio(definition.objective);
  const burnRecords: Rule[] = burnWindows(windowMs).map(([window]) => ({
    record: errorRatioRecord(window),
    expr: errorRatioExpr(indicator, window),
    labels: { ...labels, sloth_window: window },
  }));
  // As Sloth does: the period's ratio averages the 5m ratios, so the engine never reads 28 days of raw series.
  const periodRecord: Rule = {
    record: errorRatioRecord(period),
    expr: `sum_over_time(${errorRatioRecord('5m')}${select}[${period}])\n/ ignoring (sloth_window)\ncount_over_time(${errorRatioRecord('5m')}${select}[${period}])`,
    labels: { ...labels, sloth_window: period },
  };
  const meta: Rule[] = [
    { record: 'slo:objective:ratio', expr: `vector(${definition.objective})`, labels },
    { record: 'slo:error_budget:ratio', expr: `vector(${errorBudget})`, labels },
    { record: 'slo:time_period:days', expr: `vector(${windowMs / 86_400_000})`, labels },
    {
      record: 'slo:current_burn_rate:ratio',
      expr: `${errorRatioRecord('5m')}${select}\n/ on (sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio${select}`,
      labels,
    },
    {
      record: 'slo:period_burn_rate:ratio',
      expr: `${errorRatioRecord(period)}${select}\n/ on (sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio${select}`,
      labels,
    },
    {
      record: 'slo:period_error_budget_remaining:ratio',
      expr: `1 - slo:period_burn_rate:ratio${select}`,
      labels,
    },
  ];
  const tiers = burnRateTiers(windowMs);
  const alerts: Rule[] = (['page', 'ticket'] as const).map((severity) => ({
    alert: 'SloErrorBudgetBurn',
    expr: tiers
      .filter((tier) => tier.severity === severity)
      .map((tier) => tierExpr(tier, errorBudget, select))
      .join('\nor\n'),
    labels: { ...labels, severity, sloth_severity: severity },
    annotations: {
      summary: `${definition.name} (${definition.service}) is burning its error budget too fast`,
      description: `${severity} tier of the multi-window burn-rate alert for ${definition.objectivePercent}% over ${period}`,
    },
  }));
  const id = labels.sloth_id;
  return [
    { name: `sloguard-slo-sli-recordings-${id}`, rules: [...burnRecords, periodRecord] },
    { name: `sloguard-slo-meta-recordings-${id}`, rules: meta },
    { name: `sloguard-slo-alerts-${id}`, rules: alerts },
  ];
}

/** The queries an SLO's rules are made of: its own PromQL, or (asked for) those generated for a native SLO. */
export function exportedQueries(definition: SloDefinition, options: RuleOptions): NativeQueries | undefined {
  if (definition.indicator.prometheus) return definition.indicator.prometheus;
  if (!options.native || definition.composite) return undefined;
  return nativeQueries(definition, definition.indicator);
}

/**
 * Recording and multi-window multi-burn-rate alerting rules for every SLO read with PromQL (and native SLOs
 * over the collectors' series when asked), in the shape of Sloth's output, with the same burn-rate factors
 * sloguard itself alerts on (scaled to the SLO window).
 */
export function prometheusRules(definitions: readonly SloDefinition[], options: RuleOptions = {}): RuleFile {
  return {
    groups: definitions.flatMap((definition) => {
      const queries = exportedQueries(definition, options);
      return queries ? sloGroups(definition, queries, options) : [];
    }),
  };
}

export function ruleFileYaml(file: RuleFile): string {
  return `# Generated by \`sloguard rules --format prometheus\`; regenerate rather than edit.\n${stringify(file, { lineWidth: 0 })}`;
}
