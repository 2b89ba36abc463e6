import { SpansRejected } from '../zipkin/span.js';
import { countJsonObjects, isObject, type Json, listAt, objectAt, serviceOf, tagsOf } from './jsonSpans.js';
import { POINT_ATTRIBUTE_NAMES, type PointBuckets } from './metricPoints.js';
import {
  checkedPoint,
  checkPointCount,
  type MetricContext,
  MetricsRejected,
  type PointSink,
  type RawPoint,
  readableMetrics,
} from './metricReading.js';
import { COUNT_FIRST_BYTES, checkAttributeCount } from './spans.js';

/**
 * OTLP/JSON metrics: lowerCamelCase fields, 64-bit integers as decimal strings or numbers, doubles as numbers,
 * enums as numbers or their names. Unknown fields are ignored.
 */

const INTEGER = /^\d{1,20}$/;

/** A fixed64/uint64 as OTLP/JSON writes it; undefined when it is not a non-negative integer. */
function bigOf(value: unknown): bigint | undefined {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'string' && INTEGER.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return undefined;
}

const countOf = (value: unknown): number => {
  const big = bigOf(value);
  return big !== undefined && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : Number.NaN;
};

const numberOf = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN);
const integerOf = (value: unknown): number =>
  value === undefined || value === null ? 0 : typeof value === 'number' ? value : Number.NaN;
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

const READ = new Set<string>(POINT_ATTRIBUTE_NAMES);

function explicitBuckets(point: Json): PointBuckets {
  return {
    kind: 'explicit',
    bounds: listOf(point.explicitBounds).map(numberOf),
    counts: listOf(point.bucketCounts).map(countOf),
  };
}

function exponentialBuckets(point: Json): PointBuckets {
  const positive = isObject(point.positive) ? point.positive : {};
  const negative = isObject(point.negative) ? point.negative : {};
  const below = listOf(negative.bucketCounts).reduce<number>((sum, count) => sum + countOf(count), 0);
  return {
    kind: 'exponential',
    scale: integerOf(point.scale),
    zeroThreshold: point.zeroThreshold === undefined ? 0 : numberOf(point.zeroThreshold),
    zeroCount: countOf(point.zeroCount) + below,
    offset: integerOf(positive.offset),
    counts: listOf(positive.bucketCounts).map(countOf),
  };
}

function rawPoint(point: unknown, exponential: boolean): RawPoint | string {
  if (!isObject(point)) return 'a data point must be an object';
  const tags = tagsOf(point.attributes);
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) if (READ.has(key)) attributes[key] = value;
  return {
    attributeParts: [JSON.stringify(point.attributes ?? [])],
    attributes,
    startNs: bigOf(point.startTimeUnixNano),
    timeNs: bigOf(point.timeUnixNano),
    count: countOf(point.count),
    flags: integerOf(point.flags),
    buckets: exponential ? exponentialBuckets(point) : explicitBuckets(point),
  };
}

/** The structure of the request, every list checked, before any point is read. */
function structure(request: Json) {
  return listAt(request, 'resourceMetrics', '$').map((raw, r) => {
    const path = `resourceMetrics[${r}]`;
    const resourceMetrics = objectAt(raw, path);
    const resource = objectAt(resourceMetrics.resource, `${path}.resource`);
    const scopes = listAt(resourceMetrics, 'scopeMetrics', path).map((rawScope, s) => {
      const scopePath = `${path}.scopeMetrics[${s}]`;
      const scope = objectAt(rawScope, scopePath);
      const metrics = listAt(scope, 'metrics', scopePath).map((rawMetric, m) => {
        const metricPath = `${scopePath}.metrics[${m}]`;
        const metric = objectAt(rawMetric, metricPath);
        const exponential = metric.exponentialHistogram !== undefined && metric.exponentialHistogram !== null;
        const data = objectAt(exponential ? metric.exponentialHistogram : metric.histogram, metricPath);
        return {
          name: typeof metric.name === 'string' ? metric.name : '',
          unit: typeof metric.unit === 'string' ? metric.unit : '',
          temporality: data.aggregationTemporality,
          exponential,
          points: listAt(data, 'dataPoints', metricPath),
        };
      });
      return { scope: objectAt(scope.scope, `${scopePath}.scope`), metrics };
    });
    return { resource, scopes };
  });
}

/** Reads an OTLP/JSON ExportMetricsServiceRequest into `sink`; throws MetricsRejected when it cannot be read. */
export function readJsonMetrics(body: Buffer, sink: PointSink): void {
  if (body.length > COUNT_FIRST_BYTES) checkAttributeCount(countJsonObjects(body), 'JSON objects');
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new MetricsRejected(`body is not JSON: ${(error as Error).message}`, '$');
  }
  if (!isObject(request))
    throw new MetricsRejected('an ExportMetricsServiceRequest must be a JSON object', '$');
  let resources: ReturnType<typeof structure>;
  try {
    resources = structure(request);
  } catch (error) {
    if (error instanceof SpansRejected) throw new MetricsRejected(error.message, error.path);
    throw error;
  }
  checkPointCount(
    resources.reduce(
      (sum, { scopes }) =>
        sum + scopes.reduce((n, { metrics }) => n + metrics.reduce((k, x) => k + x.points.length, 0), 0),
      0,
    ),
  );
  resources.forEach(({ resource, scopes }, r) => {
    const readable = readableMetrics(scopes.flatMap(({ metrics }) => metrics.map(({ name }) => name)));
    const resourcePart = JSON.stringify(resource.attributes ?? []);
    scopes.forEach(({ scope, metrics }, s) => {
      metrics.forEach((metric, m) => {
        if (!readable.has(metric.name)) return;
        const context: MetricContext = {
          service: serviceOf(resource) ?? '',
          streamParts: [resourcePart, String(scope.name ?? ''), String(scope.version ?? ''), metric.name],
          metric: metric.name,
          unit: metric.unit,
          temporality: metric.temporality,
        };
        metric.points.forEach((raw, p) => {
          const read = rawPoint(raw, metric.exponential);
          const point = typeof read === 'string' ? read : checkedPoint(context, read);
          if (point !== undefined) sink.take([r, s, m, p], point);
        });
      });
    });
  });
}
