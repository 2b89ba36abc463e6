import { WINDOW_PLACEHOLDER } from '../../definitions/promqlSource.js';
import { DEFAULT_SPAN_KINDS } from '../../evaluate/select.js';
import type { PrometheusDataSource, PromQlIndicator } from '../../model/promql.js';
import type { Indicator, SloDefinition } from '../../model/slo.js';

/**
 * PromQL over the series sloguard collectors write into an engine (docs/scaling.md, "Series the collectors
 * write"): a native indicator becomes the good (or bad) and total queries a `source: prometheus` SLI would
 * hold, so the PromQL source reads it with the same machinery. Pure: definitions in, query text out.
 */

/** The contract's counters. */
export const ENGINE_METRICS = {
  requests: 'sloguard_requests_total',
  errors: 'sloguard_request_errors_total',
  ruleEvents: 'sloguard_rule_events_total',
  durationBucket: 'sloguard_request_duration_seconds_bucket',
  durationCount: 'sloguard_request_duration_seconds_count',
} as const;

/** A PromQL string literal: backslashes, quotes and line breaks escaped. */
export function promQlString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

/** A value matched literally inside a regular expression (RE2 syntax). */
const regexLiteral = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `label="value"`, or `label=~"a|b"` for several values (a regex of literals, anchored by PromQL). */
function matcher(label: string, values: readonly string[]): string {
  const unique = [...new Set(values)];
  return unique.length === 1
    ? `${label}=${promQlString(unique[0]!)}`
    : `${label}=~${promQlString(unique.map(regexLiteral).join('|'))}`;
}

/**
 * How a collector may spell a bucket bound: Prometheus' float text (Go's shortest `%g`, `5e-05`) and
 * JavaScript's (`0.00005`) differ below 10^-4 s, so both are matched there (only one is ever written).
 */
export function leSpellings(seconds: number): string[] {
  const js = String(seconds);
  const exponent = Math.floor(Math.log10(seconds));
  if (exponent >= -4 && exponent < 21) return [js];
  const [mantissa, power] = seconds.toExponential().split('e');
  const sign = power!.startsWith('-') ? '-' : '+';
  const digits = power!.replace(/^[-+]/, '').padStart(2, '0');
  return [...new Set([`${mantissa}e${sign}${digits}`, js])];
}

/** The label matchers of the series an indicator selects, as `selects` (evaluate/select.ts) picks store series. */
export function seriesMatchers(definition: SloDefinition, indicator: Indicator): string[] {
  const { source, select } = indicator;
  const matchers = [matcher('kind', [source]), matcher('service', [select.service ?? definition.service])];
  if (select.route !== undefined) matchers.push(matcher('operation', [select.route]));
  if (select.method !== undefined) matchers.push(matcher('method', [select.method]));
  if (source === 'loadbalancer' && select.collector !== undefined)
    matchers.push(matcher('source', [select.collector]));
  if (source === 'traces') matchers.push(matcher('source', select.spanKinds ?? DEFAULT_SPAN_KINDS));
  return matchers;
}

/** `sum(increase(metric{matchers}[{{.window}}]))`: events over the window, summed over every series and collector. */
const increase = (metric: string, matchers: readonly string[]) =>
  `sum(increase(${metric}{${matchers.join(',')}}[${WINDOW_PLACEHOLDER}]))`;

/**
 * The good (or bad) and total queries of a native indicator over the contract's series: availability by the
 * seed's rule from requests and errors, by declared rules from the rule's exact valid and bad counts, latency
 * from the bucket at the declared threshold and the count of timed requests.
 */
export function engineIndicator(
  definition: SloDefinition,
  indicator: Indicator,
  dataSource: PrometheusDataSource,
): PromQlIndicator {
  const matchers = seriesMatchers(definition, indicator);
  if (indicator.good.kind === 'latency') {
    const le = matcher('le', leSpellings(indicator.good.thresholdUs / 1e6));
    return {
      dataSource,
      good: increase(ENGINE_METRICS.durationBucket, [...matchers, le]),
      total: increase(ENGINE_METRICS.durationCount, matchers),
    };
  }
  if (indicator.rules) {
    const rule = [...matchers, matcher('rule', [String(indicator.rules.id)])];
    return {
      dataSource,
      bad: increase(ENGINE_METRICS.ruleEvents, [...rule, matcher('verdict', ['bad'])]),
      total: increase(ENGINE_METRICS.ruleEvents, [...rule, matcher('verdict', ['valid'])]),
    };
  }
  return {
    dataSource,
    bad: increase(ENGINE_METRICS.errors, matchers),
    total: increase(ENGINE_METRICS.requests, matchers),
  };
}

/**
 * The time an engine is read at for `nowMs`: the last point of the collectors' write grid at least `delayMs`
 * old, so every collector has written it (an answer there is exact; a later one would extrapolate).
 */
export function engineReadTime(nowMs: number, gridMs: number, delayMs: number): number {
  return Math.floor((nowMs - delayMs) / gridMs) * gridMs;
}
