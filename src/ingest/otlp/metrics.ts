import { setImmediate as yieldTurn } from 'node:timers/promises';
import { badKey, judgeEvent, validKey } from '../../definitions/eventRules.js';
import type { BucketDelta } from '../../model/series.js';
import type { BatchAggregate } from '../aggregate.js';
import { LabelRejected } from '../labels.js';
import type { ServiceRoutes } from '../routeTemplates.js';
import { boundsAround, exactAtBounds, spreadOverBins } from '../scrape/histogram.js';
import { TimeOutOfRange } from '../timeRange.js';
import { bucketTotal, type HistogramPoint, lbBuckets, type PointBuckets } from './metricPoints.js';
import type { PointAt } from './metricReading.js';
import type { MetricStreams, PointVerdict } from './metricStreams.js';
import type { ReadPoints } from './metricsDecoder.js';

/**
 * HTTP server duration histograms (`http.server.request.duration`, `http.server.duration`) become
 * load-balancer-like per-minute buckets of series kind `otlp-metrics`: valid = the requests a point adds, errors
 * = those of a 5xx status (or an `error.type` without a status), latency spread over sloguard's bins by the
 * scrape path's histogram helpers (exact at a bucket bound, interpolated inside a bucket).
 */

/** The series source of every OTLP metric series (its kind says where it came from). */
export const OTLP_METRICS_SOURCE = 'otlp';
/** Operation and method of points without a route or method attribute. */
const ANY = '*';
/** OpenTelemetry's service name for a resource without `service.name`. */
const UNKNOWN_SERVICE = 'unknown_service';
/** An increase is put in the middle of the interval it covers, at most this far back from the point's time. */
const PLACE_WITHIN_MS = 60_000;
/** Points are counted in slices of this much event-loop time, other requests (the gate) answered between. */
const SLICE_MS = 2;

/** What became of an export's data points: those refused one by one are counted, with the first reason. */
export interface OtlpMetricSummary {
  received: number;
  /** Points that added requests. */
  counted: number;
  rejected: number;
  rejection?: string;
  /** Latency thresholds that fell inside a bucket of some point, with that bucket's bounds (µs). */
  interpolated: Map<number, [number, number]>;
}

const attribute = (point: HistogramPoint, stable: string, old: string) =>
  point.attributes[stable] ?? point.attributes[old];

/** The minute an increase over (fromNs, timeNs] counts in, as a time in ms. */
export function placeMs(fromNs: bigint, timeNs: bigint): number {
  const timeMs = Number(timeNs / 1_000_000n);
  const spanMs = Math.min(Number((timeNs - fromNs) / 1_000_000n), PLACE_WITHIN_MS);
  return timeMs - spanMs / 2;
}

/** Takes the points of one export into a batch, refusing each invalid one alone (OTLP's partial success). */
export class OtlpMetricSink {
  private received = 0;
  private counted = 0;
  private rejected = 0;
  private reason: string | undefined;
  private readonly undos: Array<() => void> = [];

  private readonly interpolated = new Map<number, [number, number]>();

  constructor(
    private readonly streams: MetricStreams,
    private readonly routes: ServiceRoutes,
    private readonly batch: BatchAggregate,
    private readonly nowMs: number,
  ) {}

  /** Counts the points of an export, SLICE_MS of event-loop time at a time. */
  async countAll(points: ReadPoints): Promise<OtlpMetricSummary> {
    let next = 0;
    while (next < points.length) {
      const end = performance.now() + SLICE_MS;
      do {
        const [at, point] = points[next++]!;
        this.countPoint(at, point);
      } while (next < points.length && performance.now() < end);
      if (next < points.length) await yieldTurn();
    }
    return this.summary();
  }

  private countPoint(at: PointAt, point: HistogramPoint | string): void {
    this.received++;
    const problem = this.problemTaking(point);
    if (problem === undefined) return;
    this.rejected++;
    this.reason ??= `resourceMetrics[${at[0]}].scopeMetrics[${at[1]}].metrics[${at[2]}].dataPoints[${at[3]}]: ${problem}`;
  }

  /** Takes a point into its stream (and its increase into the batch), or says why it is refused. */
  private problemTaking(point: HistogramPoint | string): string | undefined {
    if (typeof point === 'string') return point;
    const { verdict, next } = this.streams.judge(point, this.nowMs);
    if (verdict.take === 'refuse') return verdict.why;
    if (verdict.take === 'increase') {
      const problem = this.count(point, verdict);
      if (problem !== undefined) return problem;
    }
    if (next) this.undos.push(this.streams.take(point, next));
    return undefined;
  }

  /** Adds an increase to its series and minute; the reason when its time or labels are refused. */
  private count(
    point: HistogramPoint,
    verdict: Extract<PointVerdict, { take: 'increase' }>,
  ): string | undefined {
    const total = bucketTotal(verdict.buckets);
    if (total === 0) return undefined;
    const service = (point.service || UNKNOWN_SERVICE).toLowerCase();
    const path = attribute(point, 'http.route', 'http.target');
    const operation = path === undefined ? ANY : this.routes.route(service, path);
    const method = (attribute(point, 'http.request.method', 'http.method') ?? ANY).toUpperCase();
    const statusText = attribute(point, 'http.response.status_code', 'http.status_code');
    const status = statusText === undefined ? undefined : Number.parseInt(statusText, 10);
    const known = status !== undefined && Number.isInteger(status) ? status : undefined;
    const error = known !== undefined ? known >= 500 : point.attributes['error.type'] !== undefined;
    try {
      const timeMs = placeMs(verdict.fromNs, point.timeNs);
      this.batch.admit(timeMs);
      const series = this.batch.seriesFor('otlp-metrics', OTLP_METRICS_SOURCE, service, operation, method);
      const delta = this.delta(verdict.buckets, point.microsPerUnit, total, error);
      // Each point has one status, route and method: the counting rules judge its requests exactly.
      for (const rule of series.rules) {
        const judged = judgeEvent(rule.rules, { operation, method, status: known, error });
        const included = judged === 'excluded' ? 0 : total;
        delta.rules.set(validKey(rule.id), included);
        delta.rules.set(badKey(rule.id), judged === 'bad' ? total : 0);
      }
      this.batch.addBucket(series, timeMs, delta);
    } catch (problem) {
      if (problem instanceof TimeOutOfRange || problem instanceof LabelRejected) return problem.message;
      throw problem;
    }
    this.counted++;
    return undefined;
  }

  private delta(buckets: PointBuckets, perUnit: number, total: number, error: boolean): BucketDelta {
    const lb = lbBuckets(buckets, perUnit);
    for (const threshold of this.batch.thresholdsUs) {
      const around = boundsAround(lb, threshold);
      if (around) this.interpolated.set(threshold, around);
    }
    return {
      total,
      errors: error ? total : 0,
      histogram: spreadOverBins(lb),
      // Only thresholds on a bucket bound are exact; the others are estimated from the histogram.
      thresholds: exactAtBounds(lb, this.batch.thresholdsUs),
      rules: new Map(),
    };
  }

  /** Puts back the stream states this export changed: its batch was not stored. */
  undo(): void {
    for (const undo of this.undos.reverse()) undo();
  }

  summary(): OtlpMetricSummary {
    const summary: OtlpMetricSummary = {
      received: this.received,
      counted: this.counted,
      rejected: this.rejected,
      interpolated: this.interpolated,
    };
    if (this.rejected > 0)
      summary.rejection = `${this.rejected} of ${this.received} data points rejected; ${this.reason}`;
    return summary;
  }
}
