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
import {
  countMetricValues,
  ExportMetricsServiceRequest,
  type WireExponentialPoint,
  type WireHistogramPoint,
  type WireMetricsRequest,
} from './metricsProto.js';
import { AttributeNames, scalarAttributes, type WireLong } from './proto.js';
import { COUNT_FIRST_BYTES, checkAttributeCount } from './spans.js';

const POINT_ATTRIBUTES = new AttributeNames(POINT_ATTRIBUTE_NAMES);
const SERVICE_NAME = new AttributeNames(['service.name']);

/** A fixed64 or uint64 as protobufjs gives it (long.js, or a number), exactly. */
function bigOf(value: WireLong): bigint {
  if (typeof value === 'number') return BigInt(value);
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}

/** A count; NaN past 2^53 (refused by the checks). */
function countOf(value: WireLong): number {
  const big = bigOf(value);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : Number.NaN;
}

/** Point attributes as text, or undefined when they are not valid protobuf. */
function attributesOf(list: Uint8Array[]): Record<string, string> | undefined {
  try {
    return scalarAttributes(list, POINT_ATTRIBUTES, {});
  } catch {
    return undefined;
  }
}

function explicitBuckets(point: WireHistogramPoint): PointBuckets {
  return { kind: 'explicit', bounds: point.explicitBounds, counts: point.bucketCounts.map(countOf) };
}

function exponentialBuckets(point: WireExponentialPoint): PointBuckets {
  const negative = (point.negative?.bucketCounts ?? []).reduce<number>(
    (sum, count) => sum + countOf(count),
    0,
  );
  return {
    kind: 'exponential',
    scale: point.scale,
    zeroThreshold: point.zeroThreshold,
    // No duration is negative: any negative bucket counts as at or under zero.
    zeroCount: countOf(point.zeroCount) + negative,
    offset: point.positive?.offset ?? 0,
    counts: (point.positive?.bucketCounts ?? []).map(countOf),
  };
}

function rawPoint(
  point: WireHistogramPoint | WireExponentialPoint,
  buckets: PointBuckets,
): RawPoint | string {
  const attributes = attributesOf(point.attributes);
  if (attributes === undefined) return 'attributes are not valid protobuf';
  return {
    attributeParts: point.attributes,
    attributes,
    startNs: bigOf(point.startTimeUnixNano),
    timeNs: bigOf(point.timeUnixNano),
    count: countOf(point.count),
    flags: point.flags,
    buckets,
  };
}

/** Reads an OTLP/protobuf ExportMetricsServiceRequest into `sink`; throws MetricsRejected when it cannot be read. */
export function readProtoMetrics(body: Buffer, sink: PointSink): void {
  if (body.length > COUNT_FIRST_BYTES) {
    const counts = countMetricValues(body);
    checkPointCount(counts.points);
    checkAttributeCount(counts.attributes);
  }
  let request: WireMetricsRequest;
  try {
    request = ExportMetricsServiceRequest.decode(body) as unknown as WireMetricsRequest;
  } catch (error) {
    throw new MetricsRejected(
      `${(error as Error).message} reading ExportMetricsServiceRequest from protobuf`,
      '$',
    );
  }
  let points = 0;
  for (const { scopeMetrics } of request.resourceMetrics)
    for (const { metrics } of scopeMetrics)
      for (const metric of metrics)
        points += (metric.histogram ?? metric.exponentialHistogram)?.dataPoints.length ?? 0;
  checkPointCount(points);
  request.resourceMetrics.forEach(({ resource, scopeMetrics }, r) => {
    const resourceAttributes = resource?.attributes ?? [];
    let service: string | undefined;
    try {
      service = scalarAttributes(resourceAttributes, SERVICE_NAME, {})['service.name'];
    } catch {
      service = undefined;
    }
    const readable = readableMetrics(scopeMetrics.flatMap(({ metrics }) => metrics.map(({ name }) => name)));
    scopeMetrics.forEach(({ scope, metrics }, s) => {
      metrics.forEach((metric, m) => {
        if (!readable.has(metric.name)) return;
        const context: MetricContext = {
          service: service ?? '',
          streamParts: [...resourceAttributes, '', scope?.name ?? '', scope?.version ?? '', metric.name],
          metric: metric.name,
          unit: metric.unit,
          temporality: (metric.histogram ?? metric.exponentialHistogram)?.aggregationTemporality,
        };
        const take = (p: number, raw: RawPoint | string) => {
          const point = typeof raw === 'string' ? raw : checkedPoint(context, raw);
          if (point !== undefined) sink.take([r, s, m, p], point);
        };
        metric.histogram?.dataPoints.forEach((point, p) => {
          take(p, rawPoint(point, explicitBuckets(point)));
        });
        metric.exponentialHistogram?.dataPoints.forEach((point, p) => {
          take(p, rawPoint(point, exponentialBuckets(point)));
        });
      });
    });
  });
}
