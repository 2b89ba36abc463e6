import { describe, expect, it } from 'vitest';
import { decodeJsonSpans } from '../../src/ingest/zipkin/json.js';
import { decodeProtoSpans, ListOfSpans } from '../../src/ingest/zipkin/proto.js';
import { SpansRejected } from '../../src/ingest/zipkin/span.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const span = (fields: Record<string, unknown> = {}) => ({ traceId: '1', id: '2', ...fields });

function rejection(body: Buffer): { message: string; path: string } {
  try {
    decodeJsonSpans(body);
  } catch (error) {
    if (error instanceof SpansRejected) return { message: error.message, path: error.path };
    throw error;
  }
  throw new Error('accepted');
}

describe('Zipkin JSON_V2 rejection rules (the messages of zipkin2 V2SpanReader and ZipkinHttpCollector)', () => {
  const R = ' reading List<Span> from json';
  it.each([
    ['a single object, not a list', json(span()), 'Expected a JSON_V2 encoded list', '$'],
    ['plain text', Buffer.from('hello'), 'Expected a JSON_V2 encoded list', '$'],
    [
      'a v1 body (binaryAnnotations)',
      json([{ traceId: '1', id: '2', binaryAnnotations: [] }]),
      'Expected a JSON_V2 encoded list, but received: JSON_V1',
      '$',
    ],
    ['broken JSON', Buffer.from('[{"traceId": "1",'), `Malformed${R}`, '$'],
    ['a list of strings', json(['span']), `Malformed${R}`, '$[0]'],
    ['missing ids', json([{ name: 'x' }]), `Missing : traceId id${R}`, '$[0]'],
    ['missing id', json([{ traceId: '1' }]), `Missing : id${R}`, '$[0]'],
    [
      'upper-case hex id',
      json([span({ id: 'ABC' })]),
      `ABC should be lower-hex encoded with no prefix${R}`,
      '$[0].id',
    ],
    [
      '0x-prefixed trace id',
      json([span({ traceId: '0x1' })]),
      `0x1 should be lower-hex encoded with no prefix${R}`,
      '$[0].traceId',
    ],
    ['a 17-digit id', json([span({ id: '1'.repeat(17) })]), `id.length > 16${R}`, '$[0].id'],
    [
      'a 33-digit trace id',
      json([span({ traceId: '1'.repeat(33) })]),
      `traceId.length > 32${R}`,
      '$[0].traceId',
    ],
    ['an all-zero id', json([span({ id: '0000' })]), `id is all zeros${R}`, '$[0].id'],
    ['an all-zero trace id', json([span({ traceId: '00' })]), `traceId is all zeros${R}`, '$[0].traceId'],
    ['an empty parent id', json([span({ parentId: '' })]), `parentId is empty${R}`, '$[0].parentId'],
    [
      'a null trace id',
      json([span({ traceId: null })]),
      `Expected a string but was NULL at path $[0].traceId${R}`,
      '$[0].traceId',
    ],
    [
      'an unknown kind',
      json([span({ kind: 'server' })]),
      `No enum constant zipkin2.Span.Kind.server${R}`,
      '$[0].kind',
    ],
    [
      'a fractional timestamp',
      json([span({ timestamp: 1472470996199000.5 })]),
      `Expected a long but was 1472470996199000.5 at path $[0].timestamp${R}`,
      '$[0].timestamp',
    ],
    [
      'a fractional duration',
      json([span({ duration: 51920.504 })]),
      `Expected a long but was 51920.504 at path $[0].duration${R}`,
      '$[0].duration',
    ],
    [
      'a boolean timestamp',
      json([span({ timestamp: true })]),
      `Expected a long but was BOOLEAN at path $[0].timestamp${R}`,
      '$[0].timestamp',
    ],
    [
      'a null tag value',
      json([span({ tags: { error: null } })]),
      `No value at $[0].tags.error${R}`,
      '$[0].tags.error',
    ],
    [
      'a boolean tag value',
      json([span({ tags: { error: true } })]),
      `Expected a string but was BOOLEAN at path $[0].tags.error${R}`,
      '$[0].tags.error',
    ],
    [
      'an object tag value',
      json([span({ tags: { 'http.status_code': { code: 500 } } })]),
      `Expected a string but was BEGIN_OBJECT at path $[0].tags.http.status_code${R}`,
      '$[0].tags.http.status_code',
    ],
    ['tags as a list', json([span({ tags: ['a'] })]), `Malformed${R}`, '$[0].tags'],
    [
      'an annotation without value',
      json([span({ annotations: [{ timestamp: 1 }] })]),
      `Incomplete annotation at $[0].annotations[0]${R}`,
      '$[0].annotations[0]',
    ],
    [
      'a string for shared',
      json([span({ shared: 'true' })]),
      `Expected a boolean but was STRING at path $[0].shared${R}`,
      '$[0].shared',
    ],
    [
      'an endpoint that is a string',
      json([span({ localEndpoint: 'frontend' })]),
      `Malformed${R}`,
      '$[0].localEndpoint',
    ],
    [
      'a fractional port',
      json([span({ localEndpoint: { serviceName: 'a', port: 80.5 } })]),
      `Expected a long but was 80.5 at path $[0].localEndpoint.port${R}`,
      '$[0].localEndpoint.port',
    ],
    [
      'the second span bad',
      json([span(), span({ id: 'xyz' })]),
      `xyz should be lower-hex encoded with no prefix${R}`,
      '$[1].id',
    ],
  ])('%s', (_case, body, message, path) => {
    expect(rejection(body)).toEqual({ message, path });
  });
});

describe('Zipkin normalisation', () => {
  it('pads ids, lower-cases names, drops negative times and self-parents, keeps number tags as text', () => {
    const [decoded] = decodeJsonSpans(
      json([
        {
          traceId: 'a',
          id: 'b',
          parentId: '00b',
          kind: 'SERVER',
          name: 'GET /Users',
          timestamp: -5,
          duration: '1200',
          localEndpoint: { serviceName: 'Frontend', ipv4: '10.0.0.1', port: 8080 },
          tags: { 'http.status_code': 200, error: '' },
          annotations: [{ timestamp: 1, value: 'ws' }],
          debug: null,
          unknownField: { ignored: true },
        },
      ]),
    );
    expect(decoded).toEqual({
      traceId: '000000000000000a',
      id: '000000000000000b',
      kind: 'SERVER',
      name: 'get /users',
      durationUs: 1200,
      serviceName: 'frontend',
      tags: { 'http.status_code': '200', error: '' },
    });
  });

  it('reads 128-bit trace ids, shortening those whose high half is zero, and skips null fields', () => {
    const [long, short] = decodeJsonSpans(
      json([
        span({ traceId: '463ac35c9f6413ad48485a3953bb6124', parentId: '0000', name: null, kind: null }),
        span({ traceId: '000000000000000048485a3953bb6124', localEndpoint: { serviceName: '' } }),
      ]),
    );
    expect(long).toEqual({ traceId: '463ac35c9f6413ad48485a3953bb6124', id: '0000000000000002', tags: {} });
    expect(short).toEqual({ traceId: '48485a3953bb6124', id: '0000000000000002', tags: {} });
  });

  it('treats an empty body, white space and [] as no spans, as Zipkin does', () => {
    expect(decodeJsonSpans(Buffer.alloc(0))).toEqual([]);
    expect(decodeJsonSpans(Buffer.from(' \n'))).toEqual([]);
    expect(decodeJsonSpans(Buffer.from('[]'))).toEqual([]);
  });
});

describe('proto3 ListOfSpans', () => {
  const encode = (spans: Record<string, unknown>[]) =>
    Buffer.from(ListOfSpans.encode(ListOfSpans.fromObject({ spans })).finish());

  it('decodes the same span as JSON', () => {
    const body = encode([
      {
        traceId: Buffer.from('463ac35c9f6413ad48485a3953bb6124', 'hex'),
        parentId: Buffer.from('0000000000000001', 'hex'),
        id: Buffer.from('00000000000000a2', 'hex'),
        kind: 2,
        name: 'GET',
        timestamp: 1_700_000_000_123_456,
        duration: 1500,
        localEndpoint: { serviceName: 'checkout', ipv4: Buffer.from([127, 0, 0, 1]) },
        tags: { 'http.route': '/api/orders' },
        annotations: [{ timestamp: 1_700_000_000_123_500, value: 'ws' }],
      },
    ]);
    expect(decodeProtoSpans(body)).toEqual(
      decodeJsonSpans(
        json([
          {
            traceId: '463ac35c9f6413ad48485a3953bb6124',
            parentId: '0000000000000001',
            id: '00000000000000a2',
            kind: 'SERVER',
            name: 'GET',
            timestamp: 1_700_000_000_123_456,
            duration: 1500,
            localEndpoint: { serviceName: 'checkout', ipv4: '127.0.0.1' },
            tags: { 'http.route': '/api/orders' },
          },
        ]),
      ),
    );
  });

  it('refuses what is not a ListOfSpans, truncated messages and spans without ids', () => {
    const refuse = (body: Buffer) => {
      try {
        decodeProtoSpans(body);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refuse(Buffer.from('[{"traceId":"1"}]'))).toBe('Expected a PROTO3 encoded list');
    expect(
      refuse(encode([{ traceId: Buffer.from('01', 'hex'), id: Buffer.from('02', 'hex') }]).subarray(0, 5)),
    ).toMatch(/reading List<Span> from proto3$/);
    expect(refuse(encode([{ name: 'x' }]))).toBe('Missing : traceId id reading List<Span> from proto3');
    expect(decodeProtoSpans(Buffer.alloc(0))).toEqual([]);
  });
});
