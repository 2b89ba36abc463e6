import { createHash } from 'node:crypto';
import {
  bucketsProblem,
  type HistogramPoint,
  microsPerUnit,
  OLD_METRIC,
  type PointBuckets,
  STABLE_METRIC,
} from './metricPoints.js';

/**
 * What the protobuf and OTLP/JSON readers share once a data point's fields are read: its stream identity, the
 * checks of the data model, and the choice of metric when an SDK sends both conventions.
 */

/** Where a point sits in the request, for the message of a refusal. */
export type PointAt = readonly [resource: number, scope: number, metric: number, point: number];

/** Takes each data point read, or the reason it is refused. */
export interface PointSink {
  take(at: PointAt, point: HistogramPoint | string): void;
}

/** A stream's identity: a digest of the parts that name it (attribute bytes or text), each length-prefixed. */
export function identity(parts: ReadonlyArray<Uint8Array | string>): string {
  const hash = createHash('sha1');
  const length = Buffer.alloc(4);
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  }
  return hash.digest('base64');
}

/** AggregationTemporality: 1 DELTA, 2 CUMULATIVE (OTLP/JSON may write the enum's name). */
export function isDelta(temporality: unknown): boolean | undefined {
  if (temporality === 1 || temporality === 'AGGREGATION_TEMPORALITY_DELTA') return true;
  if (temporality === 2 || temporality === 'AGGREGATION_TEMPORALITY_CUMULATIVE') return false;
  return undefined;
}

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a stream gone stale and holds no counts. */
const NO_RECORDED_VALUE = 1;

/** The metrics this receiver reads, for one resource: the older convention only where the stable one is absent. */
export function readableMetrics(names: readonly string[]): Set<string> {
  return new Set(names.includes(STABLE_METRIC) ? [STABLE_METRIC] : [OLD_METRIC]);
}

/** A histogram metric's fields common to its points. */
export interface MetricContext {
  service: string;
  /** Identity parts of the resource, scope and metric. */
  streamParts: ReadonlyArray<Uint8Array | string>;
  metric: string;
  unit: string;
  temporality: unknown;
}

/** A point's own fields as a reader found them. */
export interface RawPoint {
  attributeParts: ReadonlyArray<Uint8Array | string>;
  attributes: Record<string, string>;
  startNs: bigint | undefined;
  timeNs: bigint | undefined;
  count: number;
  flags: number;
  buckets: PointBuckets;
}

/** The point checked into a HistogramPoint, or why it is refused; undefined for a point with no recorded value. */
export function checkedPoint(context: MetricContext, raw: RawPoint): HistogramPoint | string | undefined {
  if ((raw.flags & NO_RECORDED_VALUE) !== 0) return undefined;
  const delta = isDelta(context.temporality);
  if (delta === undefined) return 'aggregationTemporality must be DELTA or CUMULATIVE';
  const perUnit = microsPerUnit(context.unit, context.metric);
  if (perUnit === undefined) return `unit "${context.unit}" is not s, ms, us or ns`;
  if (raw.startNs === undefined || raw.timeNs === undefined)
    return 'startTimeUnixNano and timeUnixNano must be integers of nanoseconds';
  if (!Number.isSafeInteger(raw.count)) return 'count must be an integer under 2^53';
  const problem = bucketsProblem(raw.buckets, raw.count);
  if (problem) return problem;
  return {
    producer: identity([...context.streamParts, String(raw.startNs)]),
    stream: identity([...context.streamParts, ...raw.attributeParts]),
    service: context.service,
    metric: context.metric as HistogramPoint['metric'],
    attributes: raw.attributes,
    delta,
    startNs: raw.startNs,
    timeNs: raw.timeNs,
    microsPerUnit: perUnit,
    buckets: raw.buckets,
  };
}

/**
 * Data points per export at most: it bounds the memory and the time one export takes to read and count (about
 * 12 µs a point here); the SDKs send at most 2,000 points per instrument, the Collector's batch processor 8,192
 * by default.
 */
export const MAX_POINTS_PER_EXPORT = 10_000;

/** An export that cannot be read at all: refused whole (400, or 413 when too big). */
export class MetricsRejected extends Error {
  override name = 'MetricsRejected';
  constructor(
    message: string,
    readonly path: string,
    readonly status = 400,
    readonly code: 'invalid_metrics' | 'too_many_values' = 'invalid_metrics',
  ) {
    super(message);
  }
}

/** Refuses an export of more than MAX_POINTS_PER_EXPORT data points, before any is read. */
export function checkPointCount(count: number): void {
  if (count > MAX_POINTS_PER_EXPORT) {
    throw new MetricsRejected(
      `${count} data points in one request; at most ${MAX_POINTS_PER_EXPORT} are accepted: export fewer per request`,
      '$',
      413,
      'too_many_values',
    );
  }
}
