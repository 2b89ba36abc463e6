import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcStatus } from '../../src/ingest/otlp/proto.js';
import { testApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

type Ctx = Awaited<ReturnType<typeof testApp>>;
let ctx: Ctx;
beforeAll(async () => {
  ctx = await testApp();
});
afterAll(async () => {
  await ctx?.close();
});

const PROTOBUF = 'application/x-protobuf';

/** A reader the test collects from by hand, with the temporality it asks for. */
class HandReader extends MetricReader {
  constructor(temporality: AggregationTemporality) {
    super({ aggregationTemporalitySelector: () => temporality });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** An SDK meter of service `service` recording http.server.request.duration, collected by hand. */
function sdkMeter(service: string, temporality = AggregationTemporality.CUMULATIVE) {
  const reader = new HandReader(temporality);
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    readers: [reader],
  });
  const duration = provider
    .getMeter('@opentelemetry/instrumentation-http')
    .createHistogram('http.server.request.duration', { unit: 's' });
  const record = (seconds: number, status: number, method = 'GET', route = '/orders/:id') =>
    duration.record(seconds, {
      'http.request.method': method,
      'http.route': route,
      'http.response.status_code': status,
    });
  // The SDK stamps points to the millisecond: each collection waits for a new one, so no two share a time.
  let lastMs = 0;
  const collect = async (): Promise<ResourceMetrics> => {
    // (A margin of a millisecond: the SDK's clock is performance.now()'s, not Date.now()'s.)
    await waitFor('the clock to pass the last collection', () => Date.now() > lastMs + 1, { intervalMs: 1 });
    const { resourceMetrics } = await reader.collect();
    lastMs = Date.now();
    return resourceMetrics;
  };
  return { record, collect };
}

const post = (payload: Buffer | string | Readable, headers: Record<string, string>) =>
  ctx.app.inject({ method: 'POST', url: '/v1/metrics', payload, headers });

interface Stored {
  operation: string;
  method: string;
  total: number;
  errors: number;
}

const stored = (service: string): Stored[] =>
  ctx.sloguard.db
    .prepare<[string], Stored>(
      `SELECT operation, method, sum(total) AS total, sum(errors) AS errors
       FROM minute_buckets JOIN series ON series.id = series_id
       WHERE kind = 'otlp-metrics' AND service = ? GROUP BY series.id ORDER BY operation, method`,
    )
    .all(service);

const protobufExport = async (meter: ReturnType<typeof sdkMeter>) =>
  Buffer.from(ProtobufMetricsSerializer.serializeRequest(await meter.collect())!);
const jsonExport = async (meter: ReturnType<typeof sdkMeter>) =>
  JSON.parse(Buffer.from(JsonMetricsSerializer.serializeRequest(await meter.collect())!).toString());

/** The data points of the first metric of an OTLP/JSON export. */
// biome-ignore lint/suspicious/noExplicitAny: the OTLP/JSON tree as the SDK serializer writes it
const pointsOf = (request: any): any[] =>
  request.resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints;

describe('POST /v1/metrics (OTLP/HTTP)', () => {
  it('protobuf from the SDK serializer: valid and 5xx counted, an empty ExportMetricsServiceResponse', async () => {
    const meter = sdkMeter('Shop-Proto');
    for (const status of [200, 200, 404, 503]) meter.record(0.02, status);
    meter.record(0.3, 500, 'POST', '/orders');
    const response = await post(await protobufExport(meter), { 'content-type': PROTOBUF });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(PROTOBUF);
    expect(ProtobufMetricsSerializer.deserializeResponse(response.rawPayload)).toEqual({});
    expect(stored('shop-proto')).toEqual([
      { operation: '/orders', method: 'POST', total: 1, errors: 1 },
      { operation: '/orders/:id', method: 'GET', total: 4, errors: 1 },
    ]);
    // The next cumulative export adds only what is new.
    meter.record(0.02, 200);
    expect((await post(await protobufExport(meter), { 'content-type': PROTOBUF })).statusCode).toBe(200);
    expect(stored('shop-proto')).toContainEqual({
      operation: '/orders/:id',
      method: 'GET',
      total: 5,
      errors: 1,
    });
  });

  it("OTLP/JSON, gzip'ed, delta temporality: each export's points are added as they are", async () => {
    const meter = sdkMeter('shop-delta', AggregationTemporality.DELTA);
    const send = async () =>
      post(gzipSync(JSON.stringify(await jsonExport(meter))), {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
    meter.record(0.02, 200);
    meter.record(0.02, 502);
    expect((await send()).json()).toEqual({});
    meter.record(0.02, 200);
    expect((await send()).json()).toEqual({});
    expect(stored('shop-delta')).toEqual([{ operation: '/orders/:id', method: 'GET', total: 3, errors: 1 }]);
  });

  it('partial success: invalid and out-of-order points are refused and counted, the rest kept', async () => {
    const meter = sdkMeter('shop-partial');
    meter.record(0.02, 200);
    meter.record(0.02, 503);
    const first = await jsonExport(meter);
    meter.record(0.02, 200);
    const second = await jsonExport(meter);
    expect((await post(JSON.stringify(second), { 'content-type': 'application/json' })).json()).toEqual({});
    // The older export arrives late: both its points are out of order, and nothing is counted twice.
    const late = await post(JSON.stringify(first), { 'content-type': 'application/json' });
    expect(late.statusCode).toBe(200);
    expect(late.json()).toEqual({
      partialSuccess: {
        rejectedDataPoints: '2',
        errorMessage: expect.stringMatching(
          /^2 of 2 data points rejected; .*dataPoints\[0\]: .*out of order/,
        ),
      },
    });
    // A retry of the newer export is a duplicate: taken, counted once.
    expect((await post(JSON.stringify(second), { 'content-type': 'application/json' })).json()).toEqual({});
    // A point whose buckets do not add up to its count is refused alone, in protobuf too.
    meter.record(0.02, 200);
    meter.record(0.02, 404, 'GET', '/cart');
    const broken = await jsonExport(meter);
    const points = pointsOf(broken);
    points[0].count = String(Number(points[0].count) + 7);
    const response = await post(JSON.stringify(broken), { 'content-type': 'application/json' });
    expect(response.json()).toEqual({
      partialSuccess: {
        rejectedDataPoints: '1',
        errorMessage: expect.stringContaining('is not the sum of the bucket counts'),
      },
    });
    expect(stored('shop-partial')).toEqual([
      { operation: '/cart', method: 'GET', total: 1, errors: 0 },
      { operation: '/orders/:id', method: 'GET', total: 3, errors: 1 },
    ]);
  });

  it('partial success in protobuf: rejectedDataPoints in an ExportMetricsServiceResponse', async () => {
    const meter = sdkMeter('shop-partial-proto');
    meter.record(0.02, 200);
    const earlier = await protobufExport(meter);
    meter.record(0.02, 200);
    expect((await post(await protobufExport(meter), { 'content-type': PROTOBUF })).statusCode).toBe(200);
    const refused = await post(earlier, { 'content-type': PROTOBUF });
    expect(refused.statusCode).toBe(200);
    const answer = ProtobufMetricsSerializer.deserializeResponse(refused.rawPayload);
    expect(Number(answer.partialSuccess?.rejectedDataPoints)).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toMatch(/out of order/);
    expect(stored('shop-partial-proto')).toEqual([
      { operation: '/orders/:id', method: 'GET', total: 2, errors: 0 },
    ]);
  });

  it('a batch the store refuses (503) leaves the streams as they were: the retry counts it once', async () => {
    const db = ctx.sloguard.db;
    const full = () => db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    full();
    let refused: { service: string; body: Buffer } | undefined;
    try {
      // New services until one needs a page the full database cannot give.
      for (let i = 0; i < 500 && refused === undefined; i++) {
        const meter = sdkMeter(`shop-full-${i}`);
        for (let k = 0; k < 20; k++) meter.record(0.02, 200, 'GET', `/page/${i}/${k}`);
        const body = await protobufExport(meter);
        const response = await post(body, { 'content-type': PROTOBUF });
        if (response.statusCode !== 200) {
          expect(response.statusCode).toBe(503);
          expect(response.headers['retry-after']).toBeDefined();
          refused = { service: `shop-full-${i}`, body };
        }
      }
    } finally {
      db.pragma('max_page_count = 1073741823');
    }
    expect(refused).toBeDefined();
    expect(stored(refused!.service)).toEqual([]);
    const retry = await post(refused!.body, { 'content-type': PROTOBUF });
    expect(retry.statusCode).toBe(200);
    expect(stored(refused!.service).reduce((sum, row) => sum + row.total, 0)).toBe(20);
  });

  it('hostile points are refused one by one, and an export of too many points whole (413)', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const point = (fields: object) => ({
      attributes: [{ key: 'http.response.status_code', value: { intValue: '200' } }],
      startTimeUnixNano: String(now - 60_000_000_000n),
      timeUnixNano: String(now),
      ...fields,
    });
    const exponential = (fields: object) => point({ count: '1', zeroCount: '0', ...fields });
    const request = (points: object[], exponentialPoints: object[]) => ({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop-hostile' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'http.server.request.duration',
                  histogram: { aggregationTemporality: 1, dataPoints: points },
                },
                {
                  name: 'http.server.request.duration',
                  exponentialHistogram: { aggregationTemporality: 1, dataPoints: exponentialPoints },
                },
              ],
            },
          ],
        },
      ],
    });
    const body = request(
      [
        point({ count: '1', explicitBounds: ['NaN'], bucketCounts: ['1', '0'] }),
        point({ count: '1', explicitBounds: [0.5, 0.1], bucketCounts: ['1', '0', '0'] }),
        point({ count: '99999999999999999999', bucketCounts: ['99999999999999999999'] }),
        point({ count: '1', bucketCounts: ['1'], timeUnixNano: String(now + 86_400_000_000_000n) }),
        point({ count: '1', bucketCounts: ['1'], startTimeUnixNano: String(now + 1n) }),
        point({ count: '2', bucketCounts: new Array(2000).fill('0').concat(['2']) }),
      ],
      [
        exponential({ scale: 100, positive: { offset: 0, bucketCounts: ['1'] } }),
        // Bounds past any double and under any microsecond: taken, counted at +Inf and at zero.
        exponential({ scale: -10, positive: { offset: 2 ** 31 - 2, bucketCounts: ['1'] } }),
        exponential({
          attributes: [{ key: 'http.response.status_code', value: { intValue: '201' } }],
          scale: 20,
          positive: { offset: -(2 ** 31), bucketCounts: ['1'] },
        }),
        // Offsets that index no bucket: a fraction, past sint32, not a number.
        exponential({ scale: 0, positive: { offset: 1.5, bucketCounts: ['1'] } }),
        exponential({ scale: 0, positive: { offset: 2 ** 31, bucketCounts: ['1'] } }),
        exponential({ scale: 0, positive: { offset: 'x', bucketCounts: ['1'] } }),
      ],
    );
    const response = await post(JSON.stringify(body), { 'content-type': 'application/json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      partialSuccess: {
        rejectedDataPoints: '10',
        errorMessage: expect.stringMatching(/^10 of 12 data points/),
      },
    });
    expect(stored('shop-hostile')).toEqual([{ operation: '*', method: '*', total: 2, errors: 0 }]);
    const many = request(new Array(10_001).fill({}), []);
    const tooMany = await post(JSON.stringify(many), { 'content-type': 'application/json' });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json()).toMatchObject({
      error: 'too_many_values',
      message: expect.stringContaining('10001 data points'),
    });
  });

  it('a body that is not an ExportMetricsServiceRequest: 400 with a google.rpc.Status in the request encoding', async () => {
    const proto = await post(Buffer.from([0x0a, 0xff, 0xff]), { 'content-type': PROTOBUF });
    expect(proto.statusCode).toBe(400);
    expect(proto.headers['content-type']).toBe(PROTOBUF);
    const status = RpcStatus.toObject(RpcStatus.decode(proto.rawPayload)) as {
      code: number;
      message: string;
    };
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^invalid_metrics: .*ExportMetricsServiceRequest/);
    const json = await post('{"resourceMetrics": {}}', { 'content-type': 'application/json' });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toEqual({
      code: 3,
      error: 'invalid_metrics',
      message: '$.resourceMetrics must be a list',
      field: '$.resourceMetrics',
    });
    const text = await post('{}', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    const badGzip = await post('not gzip', {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(badGzip.json()).toMatchObject({ code: 3, error: 'invalid_gzip' });
  });
});

describe('POST /v1/metrics body reading', () => {
  it("joins an export sent in many pieces, plain or gzip'ed, and refuses one past the limit (413)", async () => {
    /** A body as a stream of 64-byte pieces (no Content-Length: chunked), as a socket may deliver it. */
    const inPieces = (body: Buffer) =>
      Readable.from(
        Array.from({ length: Math.ceil(body.length / 64) }, (_, i) => body.subarray(i * 64, (i + 1) * 64)),
      );
    const meter = sdkMeter('shop-pieces', AggregationTemporality.DELTA);
    meter.record(0.02, 200);
    meter.record(0.02, 503);
    expect((await post(inPieces(await protobufExport(meter)), { 'content-type': PROTOBUF })).statusCode).toBe(
      200,
    );
    meter.record(0.02, 200);
    const zipped = gzipSync(await protobufExport(meter));
    const gzip = await post(inPieces(zipped), { 'content-type': PROTOBUF, 'content-encoding': 'gzip' });
    expect(gzip.statusCode).toBe(200);
    expect(stored('shop-pieces')).toEqual([{ operation: '/orders/:id', method: 'GET', total: 3, errors: 1 }]);
    const past = await post('{}', {
      'content-type': 'application/json',
      'content-length': String(ctx.sloguard.config.maxBodyBytes + 1),
    });
    expect(past.statusCode).toBe(413);
    expect(past.json()).toMatchObject({ code: 3, error: 'body_too_large' });
  });
});
