import protobuf from 'protobufjs';
import { eachField, root, type WireLong } from './proto.js';

/**
 * The OTLP metrics messages the metrics receiver reads and answers, declared like the trace messages (proto.ts)
 * from opentelemetry-proto v1.5.0: `collector/metrics/v1/metrics_service.proto` and `metrics/v1/metrics.proto`.
 * Only histograms are declared: gauges, sums and summaries (and exemplars) are skipped on the wire, never built.
 * Attributes stay the bytes they are on the wire (read with `scalarAttributes`), and those bytes also identify
 * a data point's stream.
 */
const { Field, Type } = protobuf;

const metrics = root.define('opentelemetry.proto.metrics.v1');
metrics.add(
  new Type('InstrumentationScope')
    .add(new Field('name', 1, 'string'))
    .add(new Field('version', 2, 'string'))
    .add(new Field('attributes', 3, 'bytes', 'repeated')),
);
metrics.add(
  new Type('HistogramDataPoint')
    .add(new Field('attributes', 9, 'bytes', 'repeated'))
    .add(new Field('startTimeUnixNano', 2, 'fixed64'))
    .add(new Field('timeUnixNano', 3, 'fixed64'))
    .add(new Field('count', 4, 'fixed64'))
    .add(new Field('bucketCounts', 6, 'fixed64', 'repeated'))
    .add(new Field('explicitBounds', 7, 'double', 'repeated'))
    .add(new Field('flags', 10, 'uint32')),
);
metrics.add(
  new Type('ExponentialHistogramDataPoint')
    .add(
      new Type('Buckets')
        .add(new Field('offset', 1, 'sint32'))
        .add(new Field('bucketCounts', 2, 'uint64', 'repeated')),
    )
    .add(new Field('attributes', 1, 'bytes', 'repeated'))
    .add(new Field('startTimeUnixNano', 2, 'fixed64'))
    .add(new Field('timeUnixNano', 3, 'fixed64'))
    .add(new Field('count', 4, 'fixed64'))
    .add(new Field('scale', 6, 'sint32'))
    .add(new Field('zeroCount', 7, 'fixed64'))
    .add(new Field('positive', 8, 'Buckets'))
    .add(new Field('negative', 9, 'Buckets'))
    .add(new Field('flags', 10, 'uint32'))
    .add(new Field('zeroThreshold', 14, 'double')),
);
metrics.add(
  new Type('Histogram')
    .add(new Field('dataPoints', 1, 'HistogramDataPoint', 'repeated'))
    .add(new Field('aggregationTemporality', 2, 'int32')),
);
metrics.add(
  new Type('ExponentialHistogram')
    .add(new Field('dataPoints', 1, 'ExponentialHistogramDataPoint', 'repeated'))
    .add(new Field('aggregationTemporality', 2, 'int32')),
);
metrics.add(
  new Type('Metric')
    .add(new Field('name', 1, 'string'))
    .add(new Field('unit', 3, 'string'))
    .add(new Field('histogram', 9, 'Histogram'))
    .add(new Field('exponentialHistogram', 10, 'ExponentialHistogram')),
);
metrics.add(
  new Type('ScopeMetrics')
    .add(new Field('scope', 1, 'InstrumentationScope'))
    .add(new Field('metrics', 2, 'Metric', 'repeated')),
);
metrics.add(
  new Type('ResourceMetrics')
    .add(new Field('resource', 1, 'opentelemetry.proto.resource.v1.Resource'))
    .add(new Field('scopeMetrics', 2, 'ScopeMetrics', 'repeated')),
);

const service = root.define('opentelemetry.proto.collector.metrics.v1');
service.add(
  new Type('ExportMetricsServiceRequest').add(
    new Field('resourceMetrics', 1, 'opentelemetry.proto.metrics.v1.ResourceMetrics', 'repeated'),
  ),
);
service.add(
  new Type('ExportMetricsPartialSuccess')
    .add(new Field('rejectedDataPoints', 1, 'int64'))
    .add(new Field('errorMessage', 2, 'string')),
);
service.add(
  new Type('ExportMetricsServiceResponse').add(new Field('partialSuccess', 1, 'ExportMetricsPartialSuccess')),
);

export const ExportMetricsServiceRequest = root.lookupType(
  'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
);
export const ExportMetricsServiceResponse = root.lookupType(
  'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
);

export interface WireHistogramPoint {
  attributes: Uint8Array[];
  startTimeUnixNano: WireLong;
  timeUnixNano: WireLong;
  count: WireLong;
  bucketCounts: WireLong[];
  explicitBounds: number[];
  flags: number;
}

export interface WireExponentialPoint {
  attributes: Uint8Array[];
  startTimeUnixNano: WireLong;
  timeUnixNano: WireLong;
  count: WireLong;
  scale: number;
  zeroCount: WireLong;
  positive: { offset: number; bucketCounts: WireLong[] } | null;
  negative: { offset: number; bucketCounts: WireLong[] } | null;
  flags: number;
  zeroThreshold: number;
}

export interface WireMetric {
  name: string;
  unit: string;
  histogram: { dataPoints: WireHistogramPoint[]; aggregationTemporality: number } | null;
  exponentialHistogram: { dataPoints: WireExponentialPoint[]; aggregationTemporality: number } | null;
}

export interface WireScopeMetrics {
  scope: { name: string; version: string; attributes: Uint8Array[] } | null;
  metrics: WireMetric[];
}

/** What `ExportMetricsServiceRequest.decode` builds (messages with proto3 defaults). */
export interface WireMetricsRequest {
  resourceMetrics: {
    resource: { attributes: Uint8Array[] } | null;
    scopeMetrics: WireScopeMetrics[];
  }[];
}

/** Data points and attributes (of resources, scopes and points) an export would build. */
export interface MetricCounts {
  points: number;
  attributes: number;
}

/**
 * Data points and attributes in an ExportMetricsServiceRequest (resource_metrics = 1 → resource = 1 →
 * attributes = 1; → scope_metrics = 2 → scope = 1 → attributes = 3; → metrics = 2 → histogram = 9 or
 * exponential_histogram = 10 → data_points = 1 → attributes = 9 or 1), counted by walking tags and lengths
 * before anything is decoded, as countProtoValues does for spans.
 */
export function countMetricValues(body: Uint8Array): MetricCounts {
  const counts = { points: 0, attributes: 0 };
  const attributesIn = (from: number, to: number, field: number) =>
    eachField(body, from, to, (f) => {
      if (f === field) counts.attributes++;
    });
  eachField(body, 0, body.length, (field, from, to) => {
    if (field !== 1) return;
    eachField(body, from, to, (resourceField, resourceFrom, resourceTo) => {
      if (resourceField === 1) attributesIn(resourceFrom, resourceTo, 1);
      if (resourceField !== 2) return;
      eachField(body, resourceFrom, resourceTo, (scopeField, scopeFrom, scopeTo) => {
        if (scopeField === 1) attributesIn(scopeFrom, scopeTo, 3);
        if (scopeField !== 2) return;
        eachField(body, scopeFrom, scopeTo, (metricField, dataFrom, dataTo) => {
          if (metricField !== 9 && metricField !== 10) return;
          eachField(body, dataFrom, dataTo, (dataField, pointFrom, pointTo) => {
            if (dataField !== 1) return;
            counts.points++;
            attributesIn(pointFrom, pointTo, metricField === 9 ? 9 : 1);
          });
        });
      });
    });
  });
  return counts;
}
