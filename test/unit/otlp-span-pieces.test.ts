import { gzipSync } from 'node:zlib';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { observeOtlpTraces } from '../../src/ingest/otlp/decode.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { SpanDecoder } from '../../src/ingest/zipkin/decoder.js';

/**
 * An OTLP export read in pieces goes to a parsing thread as those pieces, as a Zipkin list does
 * (span-pieces.test.ts): the pieces' memory moves there (the event loop keeps no copy), and the thread counts
 * the export, plain or gzip'ed, exactly as the event loop would.
 */
const routes = new ServiceRoutes(() => []);
const setup = { templates: {}, thresholdsUs: [100_000], countingRules: [] };
const decoder = new SpanDecoder(routes, setup, 1);
afterAll(() => decoder.close());

const SPANS = 300;

/** 300 SDK spans of two services: servers with statuses (every 7th a 503), every 10th a client span. */
function exportBody(): Buffer {
  const startMs = Date.now() - 60_000;
  const spans = ['catalog', 'checkout'].flatMap((service) => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    }).getTracer('pieces');
    for (let i = 0; i < SPANS / 2; i++) {
      const attributes = {
        'http.request.method': 'GET',
        'http.route': `/items/${i % 5}`,
        'http.response.status_code': i % 7 === 0 ? 503 : 200,
      };
      const kind = i % 10 === 9 ? SpanKind.CLIENT : SpanKind.SERVER;
      tracer
        .startSpan('GET', { kind, startTime: startMs + i, attributes }, ROOT_CONTEXT)
        .end(startMs + i + 40);
    }
    return exporter.getFinishedSpans();
  });
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
}

/** The body in three pieces, each owning its whole memory (as the socket's reads do; small ones too). */
const inThree = (body: Buffer) => {
  const third = Math.ceil(body.length / 3);
  return [0, 1, 2].map((i) => Buffer.from(new Uint8Array(body.subarray(i * third, (i + 1) * third)).buffer));
};

it("moves an export's pieces to the thread and counts them as the event loop would, plain or gzip'ed", async () => {
  const body = exportBody();
  expect(body.length).toBeGreaterThan(16 * 1024);
  const inline = new BatchAggregate(setup.thresholdsUs);
  const expected = observeOtlpTraces(body, true, routes, inline);
  expect(expected).toMatchObject({ received: SPANS, rejected: 0 });

  for (const [pieces, gzipLimit] of [
    [inThree(body), undefined],
    [inThree(gzipSync(body)), body.length],
  ] as const) {
    const threaded = new BatchAggregate(setup.thresholdsUs);
    expect(await decoder.decodeOtlp(pieces, true, gzipLimit, threaded)).toEqual(expected);
    expect(pieces.map((piece) => piece.buffer.byteLength)).toEqual([0, 0, 0]);
    expect(threaded.observations).toBe(inline.observations);
    expect([...threaded.series.keys()].sort()).toEqual([...inline.series.keys()].sort());
  }
});
