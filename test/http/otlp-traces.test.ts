import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcStatus } from '../../src/ingest/otlp/proto.js';
import { testApp } from '../helpers/app.js';

type Ctx = Awaited<ReturnType<typeof testApp>>;
let ctx: Ctx;
beforeAll(async () => {
  ctx = await testApp();
});
afterAll(async () => {
  await ctx?.close();
});

const PROTOBUF = 'application/x-protobuf';

/** Spans made by the OpenTelemetry SDK itself (service `service`), ended at known times. */
function sdkSpans(service: string, make: (tracer: ReturnType<BasicTracerProvider['getTracer']>) => void) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  make(provider.getTracer('otlp-test'));
  return exporter.getFinishedSpans();
}

const post = (payload: Buffer | string | Readable, headers: Record<string, string>) =>
  ctx.app.inject({ method: 'POST', url: '/v1/traces', payload, headers });

interface Stored {
  source: string;
  operation: string;
  method: string;
  total: number;
  errors: number;
}

const stored = (service: string): Stored[] =>
  ctx.sloguard.db
    .prepare<[string], Stored>(
      `SELECT source, operation, method, sum(total) AS total, sum(errors) AS errors
       FROM minute_buckets JOIN series ON series.id = series_id
       WHERE kind = 'traces' AND service = ? GROUP BY series.id ORDER BY source, operation, method`,
    )
    .all(service);

/** A mix: 3 good and 1 bad GET, a 500 POST, an errored span without status, a client span, an internal child. */
function mix(service: string): ReadableSpan[] {
  const t0 = Date.now() - 10_000;
  return sdkSpans(service, (tracer) => {
    const get = (status: number) => ({
      'http.request.method': 'GET',
      'http.route': '/orders/:id',
      'http.response.status_code': status,
    });
    const span = (
      name: string,
      kind: SpanKind,
      attributes: Record<string, string | number>,
      error = false,
    ) => {
      const s = tracer.startSpan(name, { kind, startTime: t0, attributes }, ROOT_CONTEXT);
      if (error) s.setStatus({ code: SpanStatusCode.ERROR });
      s.end(t0 + 20);
      return s;
    };
    for (const status of [200, 200, 404, 503]) span('GET /orders/:id', SpanKind.SERVER, get(status));
    span('POST', SpanKind.SERVER, {
      'http.method': 'POST',
      'http.target': '/orders/42',
      'http.status_code': 500,
    });
    const payment = span('process payment', SpanKind.SERVER, {}, true);
    span('GET', SpanKind.CLIENT, { 'http.request.method': 'GET', 'http.response.status_code': 200 });
    tracer
      .startSpan('render', { kind: SpanKind.INTERNAL, startTime: t0 }, trace.setSpan(ROOT_CONTEXT, payment))
      .end(t0 + 1);
  });
}

const EXPECTED_MIX: Stored[] = [
  { source: 'client', operation: 'get', method: 'GET', total: 1, errors: 0 },
  { source: 'server', operation: '/orders/:id', method: 'GET', total: 4, errors: 1 },
  { source: 'server', operation: '/orders/:id', method: 'POST', total: 1, errors: 1 },
  { source: 'server', operation: 'process payment', method: '-', total: 1, errors: 1 },
];

describe('POST /v1/traces (OTLP/HTTP)', () => {
  it('protobuf from the SDK serializer: Zipkin rules, an empty ExportTraceServiceResponse in protobuf', async () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(mix('Shop-Proto'))!);
    const response = await post(body, { 'content-type': PROTOBUF });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(PROTOBUF);
    expect(ProtobufTraceSerializer.deserializeResponse(response.rawPayload)).toEqual({});
    // Service lower-cased as Zipkin stores it; the path /orders/42 through the templates.
    expect(stored('shop-proto')).toEqual(EXPECTED_MIX);
  });

  it("OTLP/JSON from the SDK serializer, gzip'ed: the same counts, an empty JSON answer", async () => {
    const body = gzipSync(Buffer.from(JsonTraceSerializer.serializeRequest(mix('shop-json'))!));
    const response = await post(body, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({});
    expect(stored('shop-json')).toEqual(EXPECTED_MIX);
  });

  it('partial success: invalid spans are refused and counted, the rest kept (protobuf)', async () => {
    const spans = mix('shop-partial');
    const broken = (span: ReadableSpan, traceId: string): ReadableSpan =>
      Object.assign(Object.create(span), { spanContext: () => ({ ...span.spanContext(), traceId }) });
    // A trace id of 4 bytes and one of zeros: two of the eight spans are invalid.
    spans[0] = broken(spans[0]!, 'abcd1234');
    spans[1] = broken(spans[1]!, '0'.repeat(32));
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const response = await post(body, { 'content-type': PROTOBUF });
    expect(response.statusCode).toBe(200);
    const answer = ProtobufTraceSerializer.deserializeResponse(response.rawPayload);
    expect(Number(answer.partialSuccess?.rejectedSpans)).toBe(2);
    expect(answer.partialSuccess?.errorMessage).toMatch(
      /^2 of 8 spans rejected; resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: traceId must be 16 bytes/,
    );
    // The two refused were GET 200s.
    expect(stored('shop-partial')).toContainEqual({
      source: 'server',
      operation: '/orders/:id',
      method: 'GET',
      total: 2,
      errors: 1,
    });
  });

  it('partial success in OTLP/JSON: an end before the start, a start outside the accepted times', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const span = (spanId: string, start: bigint, end: bigint) => ({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId,
      name: 'GET /a',
      kind: 'SPAN_KIND_SERVER',
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(end),
      attributes: [{ key: 'http.response.status_code', value: { intValue: '200' } }],
    });
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop-times' } }] },
          scopeSpans: [
            {
              spans: [
                span('eee19b7ec3c1b174', now - 5_000_000n, now),
                span('eee19b7ec3c1b175', now, now - 1n),
                span('eee19b7ec3c1b176', now + 86_400_000_000_000n, now + 86_400_000_000_001n),
              ],
            },
          ],
        },
      ],
    });
    const response = await post(body, { 'content-type': 'application/json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      partialSuccess: {
        rejectedSpans: '2',
        errorMessage: expect.stringContaining('spans[1]: endTimeUnixNano is before startTimeUnixNano'),
      },
    });
    expect(stored('shop-times')).toEqual([
      { source: 'server', operation: 'get /a', method: 'GET', total: 1, errors: 0 },
    ]);
  });

  it('a body that is not an ExportTraceServiceRequest: 400 with a google.rpc.Status in the request encoding', async () => {
    const proto = await post(Buffer.from([0x0a, 0xff, 0xff]), { 'content-type': PROTOBUF });
    expect(proto.statusCode).toBe(400);
    expect(proto.headers['content-type']).toBe(PROTOBUF);
    const status = RpcStatus.toObject(RpcStatus.decode(proto.rawPayload)) as {
      code: number;
      message: string;
    };
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^invalid_spans: .*ExportTraceServiceRequest/);

    const json = await post('{"resourceSpans": {}}', { 'content-type': 'application/json' });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toEqual({
      code: 3,
      error: 'invalid_spans',
      message: '$.resourceSpans must be a list',
      field: '$.resourceSpans',
    });
  });

  it('other content types and encodings are refused (415), gzip that does not inflate is a 400', async () => {
    const text = await post('{}', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ code: 3, error: 'unsupported_media_type', field: 'content-type' });
    const brotli = await post('{}', { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(brotli.statusCode).toBe(415);
    const badGzip = await post('not gzip', {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(badGzip.statusCode).toBe(400);
    expect(badGzip.json()).toMatchObject({ error: 'invalid_gzip' });
  });

  it('bodies that would build millions of values are refused before they are decoded (413)', async () => {
    const varint = (n: number) => {
      const bytes: number[] = [];
      for (; n > 127; n = Math.floor(n / 128)) bytes.push((n & 127) | 128);
      return Buffer.from([...bytes, n]);
    };
    /** `count` empty fields of one tag. */
    const empties = (tag: number, count: number) => Buffer.from(new Uint16Array(count).fill(tag).buffer);
    const field = (tag: number, content: Buffer) =>
      Buffer.concat([Buffer.from([tag]), varint(content.length), content]);
    const request = (spans: Buffer) => field(0x0a, field(0x12, spans));
    // 50,001 empty spans, and one span of 1,000,001 empty attributes (field 9).
    const emptySpans = request(empties(0x12, 50_001));
    const attributes = request(field(0x12, empties(0x4a, 1_000_001)));
    const spans = await post(emptySpans, { 'content-type': PROTOBUF });
    expect(spans.statusCode).toBe(413);
    expect(RpcStatus.toObject(RpcStatus.decode(spans.rawPayload)).message).toMatch(
      /^too_many_spans: 50001 spans/,
    );
    const values = await post(attributes, { 'content-type': PROTOBUF });
    expect(values.statusCode).toBe(413);
    expect(RpcStatus.toObject(RpcStatus.decode(values.rawPayload)).message).toMatch(
      /^too_many_values: 1000001 attributes/,
    );
    // OTLP/JSON: 1,000,001 empty objects in a 3 MB body.
    const objects = `{"resourceSpans":[{"scopeSpans":[{"spans":[${Array(1_000_000).fill('{}').join(',')}]}]}]}`;
    const json = await post(objects, { 'content-type': 'application/json' });
    expect(json.statusCode).toBe(413);
    expect(json.json()).toMatchObject({ code: 3, error: 'too_many_values' });
    expect(json.json().message).toMatch(/^1000003 JSON objects/);
  });
});

/** A body as a stream of `size`-byte pieces (no Content-Length: chunked), as a socket may deliver it. */
const inPieces = (body: Buffer, size: number) =>
  Readable.from(
    Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.subarray(i * size, (i + 1) * size)),
  );

/** The message of a google.rpc.Status answered in protobuf. */
const statusMessage = (payload: Buffer) => RpcStatus.toObject(RpcStatus.decode(payload)).message as string;

describe('POST /v1/traces body reading (the pieces read from the socket, as the Zipkin route)', () => {
  it("counts every span of an export sent in many pieces, plain or gzip'ed", async () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(mix('shop-pieces'))!);
    const plain = await post(inPieces(body, 64), { 'content-type': PROTOBUF });
    expect(plain.statusCode).toBe(200);
    expect(plain.rawPayload.length).toBe(0);
    expect(stored('shop-pieces')).toEqual(EXPECTED_MIX);
    const zipped = gzipSync(Buffer.from(ProtobufTraceSerializer.serializeRequest(mix('shop-gzip-pieces'))!));
    const gzip = await post(inPieces(zipped, 64), { 'content-type': PROTOBUF, 'content-encoding': 'gzip' });
    expect(gzip.statusCode).toBe(200);
    expect(stored('shop-gzip-pieces')).toEqual(EXPECTED_MIX);
  });

  it('refuses a body past the limit (413) and one short of its Content-Length (400), as a google.rpc.Status', async () => {
    const past = await post(Buffer.from([0x0a, 0x00]), {
      'content-type': PROTOBUF,
      'content-length': String(ctx.sloguard.config.maxBodyBytes + 1),
    });
    expect(past.statusCode).toBe(413);
    expect(past.headers['content-type']).toBe(PROTOBUF);
    expect(statusMessage(past.rawPayload)).toMatch(/^body_too_large: /);
    const short = await post('{"resourceSpans": []}', {
      'content-type': 'application/json',
      'content-length': '9',
    });
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ code: 3, error: 'invalid_content_length' });
  });
});
