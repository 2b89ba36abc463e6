import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { readProtoTraces } from '../../src/ingest/otlp/protoSpans.js';
import { type OtlpSpanParts, OtlpSpanSink, type SpanAt } from '../../src/ingest/otlp/spans.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { SpansRejected } from '../../src/ingest/zipkin/span.js';
import { readProtoTracesByFullDecode } from '../helpers/otlpFullDecode.js';
import { type RandomTools, randomTools } from '../helpers/random.js';
import { ROOT } from '../helpers/service.js';

/**
 * The receiver reads OTLP protobuf spans off the wire (src/ingest/otlp/protoSpans.ts) instead of decoding
 * every message; it must give the sink exactly what the full decode (test/helpers/otlpFullDecode.ts, the
 * former reading) gives, span by span, and refuse the same bodies with the same answer.
 */

type Read = typeof readProtoTraces;

/** A sink that keeps what it is given, as a real one would be given it. */
class Recorder extends OtlpSpanSink {
  readonly taken: Array<[SpanAt, string | undefined, OtlpSpanParts | string]> = [];

  constructor() {
    super(new ServiceRoutes(() => []), new BatchAggregate([100_000]));
  }

  override take(at: SpanAt, service: string | undefined, parts: OtlpSpanParts | string): void {
    this.taken.push([at, service, typeof parts === 'string' ? parts : structuredClone(parts)]);
    super.take(at, service, parts);
  }
}

/** What a reading gives: every span the sink took and its summary, or the refusal of the whole body. */
function outcome(read: Read, body: Buffer) {
  const sink = new Recorder();
  try {
    read(body, sink);
  } catch (error) {
    if (!(error instanceof SpansRejected)) throw error;
    return {
      rejected: { message: error.message, status: error.status, code: error.code },
      taken: sink.taken,
    };
  }
  return { taken: sink.taken, summary: sink.summary() };
}

function expectSameReading(body: Buffer) {
  const expected = outcome(readProtoTracesByFullDecode, body);
  expect(outcome(readProtoTraces, body)).toEqual(expected);
  return expected;
}

// --- protobuf on the wire, written by hand so that anything (wrong, repeated, unknown) can be written ---

type Bytes = number[];
const WIRE = { varint: 0, fixed64: 1, delimited: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

function varint(value: bigint | number): Bytes {
  let n = BigInt.asUintN(64, BigInt(value));
  const out: Bytes = [];
  do {
    const low = Number(n & 0x7fn);
    n >>= 7n;
    out.push(n > 0n ? low | 0x80 : low);
  } while (n > 0n);
  return out;
}
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const delimited = (field: number, bytes: Bytes): Bytes => [
  ...tag(field, WIRE.delimited),
  ...varint(bytes.length),
  ...bytes,
];
const text = (field: number, value: string) => delimited(field, [...Buffer.from(value)]);
function fixed(field: number, value: bigint, bytes: 4 | 8): Bytes {
  const out = tag(field, bytes === 8 ? WIRE.fixed64 : WIRE.fixed32);
  for (let i = 0; i < bytes; i++) out.push(Number((BigInt.asUintN(64, value) >> BigInt(8 * i)) & 0xffn));
  return out;
}

const SPAN_TAGS = [
  'http.method',
  'http.request.method',
  'http.status_code',
  'http.response.status_code',
  'http.route',
  'url.path',
  'http.target',
  'error',
  'user_agent.original',
];
const OTHER_TAGS = ['url.scheme', 'server.address', 'service.name', ''];
const NAMES = ['GET /api/items/:id', 'POST', 'get', 'work', '', 'caf\u00e9 \u{1F600}', 'a\u0000b'];

/** Fields no rule reads (as the SDK and Collector write them, and unknown ones), of every wire type. */
function unknownField(random: RandomTools, field: number, depth = 0): Bytes {
  const { int } = random;
  switch (int(depth < 3 ? 5 : 4)) {
    case 0:
      return [...tag(field, WIRE.varint), ...varint(BigInt(int(2 ** 31)) * BigInt(int(2 ** 31)))];
    case 1:
      return fixed(field, BigInt(int(2 ** 31)), 8);
    case 2:
      return fixed(field, BigInt(int(2 ** 31)), 4);
    case 3:
      return delimited(
        field,
        Array.from({ length: int(12) }, () => int(256)),
      );
    default:
      // A group holding a few fields (proto2 groups; skipped as protobufjs skips them).
      return [
        ...tag(field, WIRE.startGroup),
        ...Array.from({ length: int(3) }, () => unknownField(random, 1 + int(20), depth + 1)).flat(),
        ...tag(field, WIRE.endGroup),
      ];
  }
}

/** An AnyValue: a scalar, or an array, map or bytes value, sometimes two members (the last one counts). */
function anyValue(random: RandomTools): Bytes {
  const { int, pick, next } = random;
  const member = (): Bytes => {
    switch (int(8)) {
      case 0:
        return text(1, pick(['/api/items/:id', '503', 'true', '', 'GET', 'x'.repeat(int(40))]));
      case 1:
        return [...tag(2, WIRE.varint), ...varint(int(3))];
      case 2:
        return [...tag(3, WIRE.varint), ...varint(pick([200n, 503n, -1n, 2n ** 62n, -(2n ** 40n), 0n]))];
      case 3: {
        const bytes = Buffer.alloc(8);
        bytes.writeDoubleLE(pick([0.5, 503, -0, Number.NaN, 1e21, 1 / 3]));
        return [...tag(4, WIRE.fixed64), ...bytes];
      }
      case 4:
        return delimited(5, delimited(1, text(1, 'a')));
      case 5:
        return delimited(6, delimited(1, text(1, 'k')));
      case 6:
        return text(7, 'bytes');
      default:
        return unknownField(random, 8 + int(4));
    }
  };
  return Array.from({ length: next() < 0.9 ? 1 : int(3) }, member).flat();
}

function keyValue(random: RandomTools, names: readonly string[]): Bytes {
  const { next, pick } = random;
  const key = text(1, pick(names));
  const value = delimited(2, anyValue(random));
  if (next() < 0.05) return value;
  if (next() < 0.05) return [...value, ...key];
  if (next() < 0.03) return [...key, ...value, ...unknownField(random, 3)];
  return [...key, ...value];
}

function id(random: RandomTools, bytes: number): Bytes {
  const { int, next, pick } = random;
  const length = next() < 0.85 ? bytes : pick([0, 1, 8, 15, 16, 17, 32]);
  if (next() < 0.05) return new Array<number>(length).fill(0);
  return Array.from({ length }, () => int(256));
}

function nanos(random: RandomTools, base: bigint): bigint {
  const { int, pick } = random;
  return pick([base + BigInt(int(1e9)), base, 0n, 2n ** 63n + BigInt(int(1e6)), base - BigInt(int(1e9))]);
}

/** A Span: every field of trace.proto in a random order, some repeated, some missing, some unknown. */
function span(random: RandomTools, startNs: bigint): Bytes {
  const { int, next, pick } = random;
  const start = nanos(random, startNs);
  const end = next() < 0.9 ? start + BigInt(int(2e9)) : nanos(random, startNs);
  const fields: Bytes[] = [];
  const maybe = (p: number, field: () => Bytes) => {
    if (next() < p) fields.push(field());
  };
  maybe(0.97, () => delimited(1, id(random, 16)));
  maybe(0.97, () => delimited(2, id(random, 8)));
  maybe(0.3, () => text(3, 'rojo=00f067aa0ba902b7'));
  maybe(0.5, () => delimited(4, id(random, 8)));
  maybe(0.95, () => text(5, pick(NAMES)));
  maybe(0.9, () => [...tag(6, WIRE.varint), ...varint(pick([0, 1, 2, 2, 2, 3, 4, 5, 6, -1]))]);
  maybe(0.97, () => fixed(7, start, 8));
  maybe(0.97, () => fixed(8, end, 8));
  for (let i = int(10); i > 0; i--)
    fields.push(delimited(9, keyValue(random, pick([SPAN_TAGS, OTHER_TAGS]))));
  maybe(0.3, () => [...tag(10, WIRE.varint), ...varint(int(5))]);
  maybe(0.3, () =>
    delimited(11, [...fixed(1, start, 8), ...text(2, 'event'), ...delimited(3, keyValue(random, SPAN_TAGS))]),
  );
  maybe(0.3, () => delimited(13, [...delimited(1, id(random, 16)), ...delimited(2, id(random, 8))]));
  maybe(0.3, () => [...tag(12, WIRE.varint), ...varint(int(5))]);
  maybe(0.3, () => [...tag(14, WIRE.varint), ...varint(int(5))]);
  maybe(0.6, () =>
    delimited(15, [
      ...(next() < 0.5 ? text(2, 'boom') : []),
      ...(next() < 0.8 ? [...tag(3, WIRE.varint), ...varint(pick([0, 1, 2, 2, 7]))] : []),
    ]),
  );
  maybe(0.2, () => fixed(16, BigInt(int(512)), 4));
  maybe(0.1, () => unknownField(random, 17 + int(100)));
  // A later value of a singular field replaces an earlier one: repeat one now and then.
  if (fields.length > 0 && next() < 0.1) fields.push(pick(fields));
  // Fields in any order, as protobuf allows.
  for (let i = fields.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  return fields.flat();
}

function resourceSpans(random: RandomTools, startNs: bigint): Bytes {
  const { int, next, pick } = random;
  const fields: Bytes[] = [];
  const resources = next() < 0.9 ? 1 : int(3);
  for (let i = 0; i < resources; i++) {
    const attributes = Array.from({ length: int(4) }, () =>
      next() < 0.7
        ? delimited(1, [
            ...text(1, 'service.name'),
            ...delimited(2, text(1, pick(['Catalog', 'checkout', '']))),
          ])
        : delimited(1, keyValue(random, OTHER_TAGS)),
    );
    fields.push(delimited(1, [...attributes.flat(), ...(next() < 0.2 ? [...tag(2, 0), ...varint(3)] : [])]));
  }
  for (let s = int(4); s > 0; s--) {
    const scope = next() < 0.7 ? delimited(1, [...text(1, 'bench'), ...text(2, '1.0')]) : [];
    const spans = Array.from({ length: int(6) }, () => delimited(2, span(random, startNs))).flat();
    fields.push(
      delimited(2, [
        ...scope,
        ...spans,
        ...(next() < 0.2 ? text(3, 'https://opentelemetry.io/schemas/1.21.0') : []),
      ]),
    );
  }
  if (next() < 0.2) fields.push(text(3, 'https://opentelemetry.io/schemas/1.21.0'));
  for (let i = fields.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  return fields.flat();
}

function exportRequest(random: RandomTools): Buffer {
  const startNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  const parts = Array.from({ length: 1 + random.int(3) }, () => delimited(1, resourceSpans(random, startNs)));
  if (random.next() < 0.1) parts.push(unknownField(random, 2 + random.int(10)));
  return Buffer.from(parts.flat());
}

/** A body broken as a network, a buggy sender or an attacker would: cut, bytes changed, bytes added. */
function broken(random: RandomTools, body: Buffer): Buffer {
  const { int, next } = random;
  if (body.length === 0) return body;
  const bytes = [...body];
  const kind = int(4);
  if (kind === 0) return body.subarray(0, int(body.length));
  const changes = 1 + int(3);
  for (let i = 0; i < changes; i++) {
    const at = int(bytes.length);
    if (kind === 1) bytes[at] = int(256);
    else if (kind === 2) bytes.splice(at, 0, ...Array.from({ length: 1 + int(4) }, () => int(256)));
    else bytes.splice(at, 1 + int(4));
  }
  return Buffer.from(next() < 0.5 ? bytes : bytes.slice(0, bytes.length - int(3)));
}

/** Exports made by the SDK's own serializer: servers and clients, errors, events, links, arrays. */
function sdkExport(): Buffer {
  const startMs = Date.now() - 60_000;
  const spans: ReadableSpan[] = [];
  for (const service of ['catalog', 'Checkout']) {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'host.name': 'a', tags: ['x', 'y'] }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    }).getTracer('walk', '1.2.3');
    for (let i = 0; i < 40; i++) {
      const kinds = [
        SpanKind.SERVER,
        SpanKind.CLIENT,
        SpanKind.INTERNAL,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
      ];
      const parent = tracer.startSpan('parent', {}, ROOT_CONTEXT);
      const attributes = {
        'http.request.method': i % 3 === 0 ? 'POST' : 'GET',
        'http.route': `/items/${i % 4}`,
        'http.response.status_code': i % 7 === 0 ? 503 : 200,
        'url.path': `/items/${i}`,
        'http.duration_ratio': i / 7,
        'app.flags': [true, false],
        'app.cached': i % 2 === 0,
      };
      const child = tracer.startSpan(
        `GET /items/${i % 4}`,
        {
          kind: kinds[i % kinds.length],
          startTime: startMs + i,
          attributes,
          links: [{ context: parent.spanContext() }],
        },
        i % 2 === 0 ? ROOT_CONTEXT : undefined,
      );
      child.addEvent('retry', { attempt: i });
      if (i % 5 === 0) child.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
      child.end(startMs + i + i * 3.3);
      parent.end();
    }
    spans.push(...exporter.getFinishedSpans());
  }
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
}

describe('OTLP protobuf spans read off the wire', () => {
  it("reads the SDK serializer's exports as the full decode does", () => {
    const body = sdkExport();
    const reading = expectSameReading(body);
    expect(reading.taken.length).toBe(160);
    expect(reading.taken.filter(([, , parts]) => typeof parts === 'string')).toEqual([]);
  });

  it('reads every export under test/fixtures/otlp as the full decode does', () => {
    const folder = join(ROOT, 'test/fixtures/otlp');
    const fixtures = readdirSync(folder).filter((name) => name.endsWith('.pb'));
    expect(fixtures.length).toBeGreaterThanOrEqual(2);
    for (const name of fixtures) {
      const reading = expectSameReading(readFileSync(join(folder, name)));
      expect(reading.taken.length, name).toBeGreaterThan(0);
    }
    // What protobuf allows and the SDKs do not write: the later of a repeated field counts, groups are skipped.
    const edge = expectSameReading(readFileSync(join(folder, 'edge-cases.pb')));
    expect(
      edge.taken.map(([, service, parts]) => [service, typeof parts === 'string' ? parts : parts.name]),
    ).toEqual([
      ['Edge', 'GET /second'],
      ['Edge', ''],
      ['Edge', 'traceId is all zeros'],
      ['Edge', 'endTimeUnixNano is before startTimeUnixNano'],
      ['Edge', 'attributes are not valid protobuf (an attribute value overruns its KeyValue)'],
      ['Edge', ''],
    ]);
    expect(edge.taken[1]?.[2]).toMatchObject({
      tags: { 'http.response.status_code': '503' },
      kind: 'SERVER',
    });
  });

  it('reads random exports, and the same exports broken, as the full decode does', () => {
    let taken = 0;
    let refusedSpans = 0;
    let refusedWhole = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const random = randomTools(seed);
      const body = exportRequest(random);
      for (const variant of [body, broken(random, body), broken(random, body)]) {
        const reading = expectSameReading(variant);
        if ('rejected' in reading) refusedWhole++;
        for (const [, , parts] of reading.taken) {
          if (typeof parts === 'string') refusedSpans++;
          else taken++;
        }
      }
    }
    // The generator reaches every outcome, often.
    expect(taken).toBeGreaterThan(1000);
    expect(refusedSpans).toBeGreaterThan(1000);
    expect(refusedWhole).toBeGreaterThan(500);
  });

  it('refuses hostile bodies whole, at once, without building what they declare', () => {
    const before = process.memoryUsage();
    const hostile = {
      // A varint of eleven bytes, where at most ten may be.
      'malformed varint': Buffer.from(
        delimited(1, delimited(2, delimited(2, [...tag(6, WIRE.varint), ...new Array(11).fill(0xff)]))),
      ),
      'length past the end': Buffer.from([0x0a, 0x06, 0x12, 0x04, 0x12, 0x02, 0x0a, 0x10]),
      // 2^32 - 1 bytes declared for a resource, a span, an id and an attribute, in bodies of a few bytes.
      'huge resourceSpans': Buffer.from([0x0a, ...varint(2 ** 32 - 1), 0x0a, 0x00]),
      'huge span': Buffer.from(
        delimited(1, delimited(2, [...tag(2, WIRE.delimited), ...varint(2 ** 32 - 1)])),
      ),
      'huge id': Buffer.from(
        delimited(1, delimited(2, delimited(2, [...tag(1, WIRE.delimited), ...varint(2 ** 32 - 1)]))),
      ),
      'huge attribute': Buffer.from(
        delimited(1, delimited(2, delimited(2, [...tag(9, WIRE.delimited), ...varint(2 ** 32 - 1), 0x0a]))),
      ),
      // Groups nested 100,000 deep in an unknown field of a span.
      'deep nesting': Buffer.from(
        delimited(1, delimited(2, delimited(2, [...new Array(100_000).fill(tag(20, WIRE.startGroup)[0])]))),
      ),
      'end of a group never begun': Buffer.from(delimited(1, tag(7, WIRE.endGroup))),
      'wire type 6': Buffer.from(delimited(1, delimited(2, delimited(2, tag(20, 6))))),
    };
    const started = performance.now();
    for (const [name, body] of Object.entries(hostile)) {
      const reading = expectSameReading(body);
      expect(reading, name).toMatchObject({ rejected: { status: 400, code: 'invalid_spans' }, taken: [] });
    }
    expect(performance.now() - started).toBeLessThan(10_000);
    const after = process.memoryUsage();
    // Nothing of the 4 GiB declared was allocated (a 4 GiB buffer cannot hide in 256 MB).
    expect(after.arrayBuffers + after.heapUsed - before.arrayBuffers - before.heapUsed).toBeLessThan(
      256 * 2 ** 20,
    );
    expect(expectSameReading(hostile['deep nesting']).rejected?.message).toMatch(/maximum nesting depth/);
  });

  it('counts nothing of an export refused whole, even the spans read before its fault', () => {
    const random = randomTools(7);
    let body = exportRequest(random);
    while (!outcome(readProtoTraces, body).taken.length) body = exportRequest(random);
    const faulty = Buffer.concat([body, Buffer.from([0x0a, 0x05, 0x00])]);
    expect(outcome(readProtoTraces, faulty)).toMatchObject({ rejected: { status: 400 }, taken: [] });
  });

  it('counts the spans of a body past 1 MiB before reading it: millions of empty spans are refused unread', () => {
    const empties = new Array(700_000).fill([0x12, 0x00]).flat();
    const body = Buffer.from(delimited(1, delimited(2, empties)));
    expect(outcome(readProtoTraces, body)).toMatchObject({
      rejected: { status: 413, code: 'too_many_spans' },
      taken: [],
    });
  });
});
