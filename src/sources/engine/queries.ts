import { WINDOW_PLACEHOLDER } from '../../definitions/promqlSource.js';
import { DEFAULT_SPAN_KINDS, selectedSeries } from '../../evaluate/select.js';
import { COLLECTOR_METRICS } from '../../model/collectorSeries.js';
import type { SourceKind } from '../../model/observation.js';
import type { PrometheusDataSource, PromQlIndicator } from '../../model/promql.js';
import type { SeriesRow } from '../../model/series.js';
import type { Indicator, SloDefinition } from '../../model/slo.js';
import type { VectorSample } from '../promql/client.js';
import type { ReadIndicator } from '../promql/source.js';

/**
 * PromQL over the series sloguard collectors write into an engine (docs/scaling.md, "Series the collectors
 * write"): a native indicator becomes the good (or bad) and total queries a `source: prometheus` SLI would
 * hold, so the PromQL source reads it with the same machinery. Pure: definitions in, query text out.
 */

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

/** The labels of a series key of the embedded store: grouped answers are summed by them (over collectors). */
const SERIES_LABELS = 'kind, service, operation, method, source';

/** Every series of one kind in one answer, summed over collectors: `sum by (series labels) (increase(...))`. */
const increaseBySeries = (metric: string, matchers: readonly string[]) =>
  `sum by (${SERIES_LABELS}) (increase(${metric}{${matchers.join(',')}}[${WINDOW_PLACEHOLDER}]))`;

/** A grouped answer's series as the store's series selection reads them, each with its value. */
interface EngineSeries extends SeriesRow {
  value: number;
}

/** A collector series' labels as the store's series row (the engine keeps no first and last seen times). */
export function seriesRowOf(id: number, labels: Record<string, string>): SeriesRow {
  return {
    id,
    kind: labels.kind as SourceKind,
    source: labels.source ?? '',
    service: labels.service ?? '',
    operation: labels.operation ?? '',
    method: labels.method ?? '',
    firstSeenMs: 0,
    lastSeenMs: 0,
  };
}

/** Made once per answer (every SLO of a tick picks from the same one), so selection's grouping is built once too. */
const seriesOfAnswer = new WeakMap<readonly VectorSample[], EngineSeries[]>();

function seriesOf(answer: readonly VectorSample[]): EngineSeries[] {
  let series = seriesOfAnswer.get(answer);
  if (!series) {
    series = answer.map(({ labels, value }, id) => ({ ...seriesRowOf(id, labels), value }));
    seriesOfAnswer.set(answer, series);
  }
  return series;
}

/** The metric and its extra matchers for an indicator's valid and counted (good or bad) events. */
function countersOf(indicator: Indicator): {
  total: [string, string[]];
  counted: [string, string[]];
  good: boolean;
} {
  if (indicator.good.kind === 'latency') {
    const le = matcher('le', leSpellings(indicator.good.thresholdUs / 1e6));
    return {
      total: [COLLECTOR_METRICS.durationCount, []],
      counted: [COLLECTOR_METRICS.durationBucket, [le]],
      good: true,
    };
  }
  if (indicator.rules) {
    const rule = matcher('rule', [String(indicator.rules.id)]);
    return {
      total: [COLLECTOR_METRICS.ruleEvents, [rule, matcher('verdict', ['valid'])]],
      counted: [COLLECTOR_METRICS.ruleEvents, [rule, matcher('verdict', ['bad'])]],
      good: false,
    };
  }
  return { total: [COLLECTOR_METRICS.requests, []], counted: [COLLECTOR_METRICS.errors, []], good: false };
}

/** A native indicator's own good (or bad) and total queries, as a hand-written PromQL SLI would hold them. */
export type NativeQueries = Pick<PromQlIndicator, 'good' | 'bad' | 'total'>;

/**
 * The queries of a native indicator over the contract's series, selecting its series in PromQL: availability
 * by the seed's rule from requests and errors, by declared rules from the rule's exact valid and bad counts,
 * latency from the bucket at the declared threshold and the count of timed requests. Slices and charts ask
 * them over ranges; `sloguard rules --native` exports them.
 */
export function nativeQueries(definition: SloDefinition, indicator: Indicator): NativeQueries {
  const own = seriesMatchers(definition, indicator);
  const { total, counted, good } = countersOf(indicator);
  return {
    [good ? 'good' : 'bad']: increase(counted[0], [...own, ...counted[1]]),
    total: increase(total[0], [...own, ...total[1]]),
  };
}

/**
 * A native indicator's valid and counted (good or bad) events per series (summed over collectors), its own
 * series only: what a breakdown ranks.
 */
export function seriesQueries(
  definition: SloDefinition,
  indicator: Indicator,
): { total: string; counted: string; good: boolean } {
  const own = seriesMatchers(definition, indicator);
  const { total, counted, good } = countersOf(indicator);
  return {
    total: increaseBySeries(total[0], [...own, ...total[1]]),
    counted: increaseBySeries(counted[0], [...own, ...counted[1]]),
    good,
  };
}

/**
 * A native indicator as the engine source reads it: its own queries, and grouped ones that ask every series
 * of the kind at once, from which it picks its own as the store selects series (evaluate/select.ts), so SLOs
 * share one query per window.
 */
export function engineIndicator(
  definition: SloDefinition,
  indicator: Indicator,
  dataSource: PrometheusDataSource,
): ReadIndicator {
  const kind = [matcher('kind', [indicator.source])];
  const { total, counted } = countersOf(indicator);
  return {
    dataSource,
    ...nativeQueries(definition, indicator),
    grouped: {
      total: increaseBySeries(total[0], [...kind, ...total[1]]),
      counted: increaseBySeries(counted[0], [...kind, ...counted[1]]),
      pick: (answer) =>
        selectedSeries(definition, seriesOf(answer), indicator).reduce(
          // The rows are the answer's own (seriesOf): each carries its value.
          (sum, series) => sum + (series as EngineSeries).value,
          0,
        ),
    },
  };
}

/**
 * The time an engine is read at for `nowMs`: the last point of the collectors' write grid at least `delayMs`
 * old, so every collector has written it (an answer there is exact; a later one would extrapolate).
 */
export function engineReadTime(nowMs: number, gridMs: number, delayMs: number): number {
  return Math.floor((nowMs - delayMs) / gridMs) * gridMs;
}
