import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { loadDefinitions } from '../../src/definitions/load.js';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import {
  type ExplicitBuckets,
  type ExponentialBuckets,
  type HistogramPoint,
  lbBuckets,
  STABLE_METRIC,
  subtractBuckets,
} from '../../src/ingest/otlp/metricPoints.js';
import { MetricsRejected } from '../../src/ingest/otlp/metricReading.js';
import { MetricStreams } from '../../src/ingest/otlp/metricStreams.js';
import { OtlpMetricSink, placeMs } from '../../src/ingest/otlp/metrics.js';
import { MetricDecoder, readMetrics } from '../../src/ingest/otlp/metricsDecoder.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { estimateAtOrUnder } from '../../src/model/histogram.js';
import { tempFolders } from '../helpers/tmp.js';

const S = 1_000_000_000n;
/** A fixed time to start from: 2026-12-01T00:00:00Z, in ns. */
const T0 = 1_796_083_200n * S;

const explicit = (counts: number[], bounds = [0.1, 0.5]): ExplicitBuckets => ({
  kind: 'explicit',
  bounds,
  counts,
});

function point(over: Partial<HistogramPoint> & { buckets: HistogramPoint['buckets'] }): HistogramPoint {
  return {
    producer: `p${over.startNs ?? T0}`,
    stream: 'stream-a',
    service: 'shop',
    metric: STABLE_METRIC,
    attributes: {},
    delta: false,
    startNs: T0,
    timeNs: T0 + 60n * S,
    microsPerUnit: 1_000_000,
    ...over,
  };
}

/** A stream table that started before T0, so streams starting at T0 count from their start. */
const freshStreams = () =>
  new MetricStreams({ maxStreams: 100, maxBuckets: 10_000, idleMs: 3_600_000 }, T0 - S);

/** Judges and takes a point, as the sink does; the requests it adds (undefined when it adds nothing). */
function feed(streams: MetricStreams, p: HistogramPoint, nowMs = 0): number[] | string | undefined {
  const { verdict, next } = streams.judge(p, nowMs);
  if (verdict.take === 'refuse') return verdict.why;
  if (next) streams.take(p, next);
  return verdict.take === 'increase' ? [...verdict.buckets.counts] : undefined;
}

describe('OTLP histogram buckets', () => {
  it('gives explicit bounds in µs, exact to the nanosecond, ending at +Inf', () => {
    expect(lbBuckets(explicit([1, 2, 3], [0.005, 0.1]), 1_000_000)).toEqual([
      { upperUs: 5000, cumulative: 1 },
      { upperUs: 100_000, cumulative: 3 },
      { upperUs: Number.POSITIVE_INFINITY, cumulative: 6 },
    ]);
  });

  it('gives exponential bounds as base^(index+1), base = 2^(2^-scale), the zero bucket first', () => {
    const buckets: ExponentialBuckets = {
      kind: 'exponential',
      scale: 1,
      zeroThreshold: 0,
      zeroCount: 1,
      offset: -2,
      counts: [1, 2, 3],
    };
    // Scale 1: base √2; indexes -2, -1, 0 end at 2^(-1/2), 2^0, 2^(1/2) seconds.
    const lb = lbBuckets(buckets, 1_000_000);
    expect(lb.map((b) => b.cumulative)).toEqual([1, 2, 4, 7]);
    expect(lb[0]!.upperUs).toBe(0);
    expect(lb[1]!.upperUs).toBeCloseTo(707_106.781, 3);
    expect(lb[2]!.upperUs).toBe(1_000_000);
    expect(lb[3]!.upperUs).toBeCloseTo(1_414_213.562, 3);
  });

  it('subtracts cumulative points bucket by bucket; a lower bucket is a reset, new bounds incomparable', () => {
    expect(subtractBuckets(explicit([1, 2, 0]), explicit([3, 2, 1]))).toEqual(explicit([2, 0, 1]));
    expect(subtractBuckets(explicit([1, 2, 0]), explicit([0, 5, 1]))).toBe('lower');
    expect(subtractBuckets(explicit([1, 2, 0]), explicit([1, 2, 0, 1], [0.1, 0.5, 1]))).toBeUndefined();
  });

  it('subtracts exponential points across a scale change by merging the older buckets', () => {
    const before: ExponentialBuckets = {
      kind: 'exponential',
      scale: 2,
      zeroThreshold: 0,
      zeroCount: 0,
      offset: 4,
      counts: [1, 1, 1, 1],
    };
    // At scale 1 indexes 4..7 of scale 2 fall in 2 and 3: two requests each.
    const after: ExponentialBuckets = { ...before, scale: 1, offset: 2, counts: [3, 2, 5] };
    expect(subtractBuckets(before, after)).toEqual({ ...after, counts: [1, 0, 5] });
    expect(subtractBuckets(after, before)).toBeUndefined();
    expect(subtractBuckets(before, { ...after, counts: [1, 2, 5] })).toBe('lower');
  });
});

describe('OTLP metric streams', () => {
  it('counts a cumulative stream from its start, then its increases; a duplicate adds nothing', () => {
    const streams = freshStreams();
    expect(feed(streams, point({ buckets: explicit([1, 1, 0]) }))).toEqual([1, 1, 0]);
    const later = point({ timeNs: T0 + 120n * S, buckets: explicit([3, 1, 1]) });
    expect(feed(streams, later)).toEqual([2, 0, 1]);
    expect(feed(streams, later)).toBeUndefined();
  });

  it('refuses a point older than the last of its stream, and counts nothing twice after it', () => {
    const streams = freshStreams();
    feed(streams, point({ timeNs: T0 + 120n * S, buckets: explicit([3, 1, 1]) }));
    expect(feed(streams, point({ buckets: explicit([1, 1, 0]) }))).toMatch(/out of order/);
    expect(feed(streams, point({ timeNs: T0 + 180n * S, buckets: explicit([4, 1, 1]) }))).toEqual([1, 0, 0]);
  });

  it('treats a lower count or a new start time as a counter reset: the new point counts whole', () => {
    const streams = freshStreams();
    feed(streams, point({ buckets: explicit([5, 5, 5]) }));
    expect(feed(streams, point({ timeNs: T0 + 120n * S, buckets: explicit([1, 0, 0]) }))).toEqual([1, 0, 0]);
    const restart = T0 + 150n * S;
    const restarted = point({ startNs: restart, timeNs: T0 + 180n * S, buckets: explicit([2, 0, 0]) });
    expect(feed(streams, restarted)).toEqual([2, 0, 0]);
  });

  it('takes a stream that started before this receiver as a baseline, unless its exporter was seen before', () => {
    const streams = new MetricStreams({ maxStreams: 100, maxBuckets: 10_000, idleMs: 3_600_000 }, T0 + S);
    expect(feed(streams, point({ buckets: explicit([5, 0, 0]) }))).toBeUndefined();
    expect(feed(streams, point({ timeNs: T0 + 120n * S, buckets: explicit([6, 0, 0]) }))).toEqual([1, 0, 0]);
    // A stream of the same exporter first sent at a later export is new since the last one.
    const fresh = point({ stream: 'stream-b', timeNs: T0 + 180n * S, buckets: explicit([0, 2, 0]) });
    expect(feed(streams, fresh)).toEqual([0, 2, 0]);
  });

  it('after forgetting a stream, counts none of that exporter’s streams whole again', () => {
    const streams = new MetricStreams({ maxStreams: 1, maxBuckets: 10_000, idleMs: 3_600_000 }, T0 - S);
    feed(streams, point({ buckets: explicit([1, 0, 0]) }));
    feed(streams, point({ stream: 'stream-b', buckets: explicit([1, 0, 0]) }));
    streams.evict(0);
    expect(streams.size).toBe(1);
    const again = point({ timeNs: T0 + 120n * S, buckets: explicit([2, 0, 0]) });
    expect(feed(streams, again)).toBeUndefined();
    expect(feed(streams, point({ timeNs: T0 + 180n * S, buckets: explicit([3, 0, 0]) }))).toEqual([1, 0, 0]);
  });

  it('forgets the least recently updated streams past the bucket budget', () => {
    const streams = new MetricStreams({ maxStreams: 100, maxBuckets: 6, idleMs: 3_600_000 }, T0 - S);
    for (const stream of ['a', 'b', 'c']) feed(streams, point({ stream, buckets: explicit([1, 0, 0]) }));
    streams.evict(0);
    expect(streams.size).toBe(2);
    // Stream a went first: its next point is a baseline, not counted whole.
    expect(
      feed(streams, point({ stream: 'a', timeNs: T0 + 120n * S, buckets: explicit([2, 0, 0]) })),
    ).toBeUndefined();
  });

  it('forgets idle streams', () => {
    const streams = freshStreams();
    feed(streams, point({ buckets: explicit([1, 0, 0]) }), 0);
    streams.evict(3_600_001);
    expect(streams.size).toBe(0);
  });

  it('takes delta points as they are, refusing one that overlaps the last', () => {
    const streams = freshStreams();
    const delta = (from: bigint, to: bigint, counts: number[]) =>
      point({ delta: true, startNs: from, timeNs: to, buckets: explicit(counts) });
    expect(feed(streams, delta(T0, T0 + 60n * S, [1, 0, 0]))).toEqual([1, 0, 0]);
    expect(feed(streams, delta(T0 + 60n * S, T0 + 120n * S, [0, 1, 0]))).toEqual([0, 1, 0]);
    expect(feed(streams, delta(T0 + 60n * S, T0 + 120n * S, [0, 1, 0]))).toBeUndefined();
    expect(feed(streams, delta(T0 + 90n * S, T0 + 150n * S, [0, 1, 0]))).toMatch(/overlapping/);
  });

  it('puts an increase in the middle of the interval it covers, at most 30 s before the point', () => {
    expect(placeMs(T0, T0 + 10n * S)).toBe(Number(T0 / 1_000_000n) + 5000);
    expect(placeMs(T0, T0 + 3600n * S)).toBe(Number(T0 / 1_000_000n) + 3_570_000);
  });
});

/** An OTLP/JSON export of one http.server.request.duration histogram with the given points. */
function jsonExport(temporality: number, points: object[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'Shop' } }] },
          scopeMetrics: [
            {
              scope: { name: '@opentelemetry/instrumentation-http' },
              metrics: [
                {
                  name: 'http.server.request.duration',
                  unit: 's',
                  histogram: { aggregationTemporality: temporality, dataPoints: points },
                },
              ],
            },
          ],
        },
      ],
    }),
  );
}

const attributes = (status: number) => [
  { key: 'http.request.method', value: { stringValue: 'GET' } },
  { key: 'http.route', value: { stringValue: '/orders/:id' } },
  { key: 'http.response.status_code', value: { intValue: String(status) } },
];

describe('OTLP metrics export into a batch', () => {
  const nowNs = BigInt(Date.now()) * 1_000_000n;

  async function observe(body: Buffer, thresholdsUs: number[]) {
    const batch = new BatchAggregate(thresholdsUs);
    const sink = new OtlpMetricSink(
      new MetricStreams(undefined, nowNs - 120n * S),
      new ServiceRoutes(() => []),
      batch,
      0,
    );
    return { batch, summary: await sink.countAll(readMetrics(body, false)) };
  }

  it('counts valid and 5xx requests, exact at a bucket bound, and refuses bad points alone', async () => {
    const start = String(nowNs - 60n * S);
    const time = String(nowNs);
    const body = jsonExport(2, [
      {
        attributes: attributes(200),
        startTimeUnixNano: start,
        timeUnixNano: time,
        count: '6',
        explicitBounds: [0.1, 0.5],
        bucketCounts: ['3', '2', '1'],
      },
      {
        attributes: attributes(503),
        startTimeUnixNano: start,
        timeUnixNano: time,
        count: '2',
        explicitBounds: [0.1, 0.5],
        bucketCounts: ['0', '0', '2'],
      },
      {
        attributes: attributes(404),
        startTimeUnixNano: start,
        timeUnixNano: time,
        count: '5',
        explicitBounds: [0.1, 0.5],
        bucketCounts: ['1', '1', '1'],
      },
    ]);
    const { batch, summary } = await observe(body, [100_000, 250_000]);
    expect(summary).toMatchObject({ received: 3, counted: 2, rejected: 1 });
    expect(summary.rejection).toMatch(/dataPoints\[2\]: count 5 is not the sum of the bucket counts/);
    const [series] = [...batch.series.values()];
    expect(series!.key).toEqual({
      kind: 'otlp-metrics',
      source: 'otlp',
      service: 'shop',
      operation: '/orders/:id',
      method: 'GET',
    });
    const [bucket] = [...series!.minutes.values()];
    expect(bucket!.total).toBe(8);
    expect(bucket!.errors).toBe(2);
    // 100 ms is a bound: exact. 250 ms lies inside (100 ms, 500 ms]: estimated, and reported as such.
    expect(bucket!.thresholds.get(100_000)).toBe(3);
    expect(bucket!.thresholds.has(250_000)).toBe(false);
    expect(summary.interpolated.get(250_000)).toEqual([100_000, 500_000]);
    // The estimate stays within the OTLP bucket around it: 3 requests under 100 ms, 5 under 500 ms.
    const estimate = estimateAtOrUnder(bucket!.histogram, 250_000);
    expect(estimate.good).toBeGreaterThanOrEqual(3);
    expect(estimate.good).toBeLessThanOrEqual(5);
  });

  it('reads exponential histograms of the older convention (milliseconds)', async () => {
    const body = Buffer.from(
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'http.server.duration',
                    unit: 'ms',
                    exponentialHistogram: {
                      aggregationTemporality: 'AGGREGATION_TEMPORALITY_DELTA',
                      dataPoints: [
                        {
                          attributes: [
                            { key: 'http.method', value: { stringValue: 'get' } },
                            { key: 'http.target', value: { stringValue: '/orders/17' } },
                            { key: 'http.status_code', value: { intValue: 500 } },
                          ],
                          startTimeUnixNano: String(nowNs - 60n * S),
                          timeUnixNano: String(nowNs),
                          count: 4,
                          scale: 0,
                          zeroCount: 1,
                          positive: { offset: 6, bucketCounts: [1, 2] },
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    // Scale 0: index 6 is (64, 128] ms and index 7 (128, 256] ms; 128 ms is a bound, exact.
    const { batch, summary } = await observe(body, [128_000]);
    expect(summary).toMatchObject({ received: 1, counted: 1, rejected: 0 });
    const [series] = [...batch.series.values()];
    expect(series!.key).toMatchObject({ operation: '/orders/:id', method: 'GET' });
    const [bucket] = [...series!.minutes.values()];
    expect(bucket).toMatchObject({ total: 4, errors: 4 });
    expect(bucket!.thresholds.get(128_000)).toBe(2);
  });

  it('refuses a body that is not an export whole', async () => {
    await expect(observe(Buffer.from('{"resourceMetrics": 3}'), [])).rejects.toThrow(/must be a list/);
    await expect(observe(Buffer.from('not json'), [])).rejects.toThrow(/not JSON/);
  });
});

describe('OTLP metric exports read on a thread', () => {
  it('gives the points the event loop would read, and refuses what it would refuse', async () => {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const points = Array.from({ length: 200 }, (_, i) => ({
      attributes: [{ key: 'http.route', value: { stringValue: `/route/${i}` } }],
      startTimeUnixNano: String(nowNs - 60n * S),
      timeUnixNano: String(nowNs),
      count: '1',
      explicitBounds: [0.1],
      bucketCounts: ['1', '0'],
    }));
    const body = jsonExport(1, points);
    expect(body.length).toBeGreaterThan(16 * 1024);
    const decoder = new MetricDecoder(1);
    try {
      expect(await decoder.read(body, false)).toEqual(readMetrics(body, false));
      const notAList = Buffer.from(`{"resourceMetrics": 3, "padding": "${'x'.repeat(20_000)}"}`);
      const refused = await decoder.read(notAList, false).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(MetricsRejected);
      expect(refused).toMatchObject({ status: 400, path: '$.resourceMetrics' });
    } finally {
      await decoder.close();
    }
  });
});

describe('SLOs on OTLP metrics', () => {
  const folders = tempFolders();
  afterEach(() => folders.cleanup());

  it('are selected with source: otlp-metrics, natively and from OpenSLO (metricSource.type: sloguard)', () => {
    const path = folders.write({
      'native.yaml': `apiVersion: sloguard/v1
kind: SLO
metadata: { name: orders-fast, service: shop }
spec:
  indicator:
    source: otlp-metrics
    select: { route: "/orders/:id", method: get }
    good: { latency: "<= 250ms" }
  objective: 99
  window: 28d
`,
      'openslo.yaml': `apiVersion: openslo/v1
kind: SLO
metadata: { name: orders-ok }
spec:
  service: shop
  indicator:
    metadata: { name: orders-ok }
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: sloguard
            spec: { source: otlp-metrics, operation: "/orders/:id", good: { status: "< 500" } }
        total:
          metricSource:
            type: sloguard
            spec: { source: otlp-metrics, operation: "/orders/:id" }
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
`,
    });
    const { definitions, errors } = loadDefinitions([path]);
    expect(errors).toEqual([]);
    const byName = Object.fromEntries(definitions.map((d) => [d.name, d.indicator]));
    expect(byName['orders-fast']).toMatchObject({
      source: 'otlp-metrics',
      select: { route: '/orders/:id', method: 'GET' },
      good: { kind: 'latency', thresholdUs: 250_000 },
    });
    expect(byName['orders-ok']).toMatchObject({
      source: 'otlp-metrics',
      select: { route: '/orders/:id' },
      good: { kind: 'availability' },
    });
  });
});

describe('SLOGUARD_OTLP_PORT', () => {
  it('is off unless set, a port when set, and refused outside 0–65535', () => {
    expect(loadConfig({ SLOGUARD_CONFIG: undefined }).otlpPort).toBeUndefined();
    expect(loadConfig({ SLOGUARD_CONFIG: undefined, SLOGUARD_OTLP_PORT: '4318' }).otlpPort).toBe(4318);
    expect(() => loadConfig({ SLOGUARD_CONFIG: undefined, SLOGUARD_OTLP_PORT: '70000' })).toThrowError(
      ConfigError,
    );
  });
});
