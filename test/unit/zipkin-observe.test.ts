import { describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { observeSpans, spanObservation } from '../../src/ingest/zipkin/observe.js';
import type { ZipkinSpan } from '../../src/ingest/zipkin/span.js';

const routes = new ServiceRoutes((service) => (service === 'shop' ? ['/cart/:cartId'] : []));
const T = 1_700_000_000_123_456;
const span = (fields: Partial<ZipkinSpan> = {}): ZipkinSpan => ({
  traceId: '0000000000000001',
  id: '0000000000000002',
  kind: 'SERVER',
  timestampUs: T,
  durationUs: 2500,
  serviceName: 'shop',
  name: 'get',
  tags: {},
  ...fields,
});

describe('span → Observation', () => {
  it('maps a server span: service, route, method, status, duration in µs, time in ms', () => {
    expect(
      spanObservation(
        span({ tags: { 'http.route': '/items/:id', 'http.method': 'get', 'http.status_code': '201' } }),
        routes,
      ),
    ).toEqual({
      timeMs: 1_700_000_000_123,
      kind: 'traces',
      source: 'server',
      service: 'shop',
      operation: '/items/:id',
      method: 'GET',
      status: 201,
      error: false,
      durationUs: 2500,
    });
  });

  it.each([
    ['http.path by configured template', { 'http.path': '/cart/abc' }, '/cart/:cartId'],
    ['http.target without its query', { 'http.target': '/users/42?x=1' }, '/users/:id'],
    ['url.path (OpenTelemetry stable)', { 'url.path': '/orders/9f86d081884c7d65' }, '/orders/:id'],
    ['http.route wins over paths', { 'http.route': '/r/{id}', 'url.path': '/r/1' }, '/r/{id}'],
    ['the span name without any path', {}, 'get'],
  ])('operation from %s', (_case, tags, operation) => {
    expect(spanObservation(span({ tags }), routes)?.operation).toBe(operation);
  });

  it.each([
    ['5xx status', { 'http.status_code': '503' }, true],
    ['stable status attribute', { 'http.response.status_code': '500' }, true],
    ["Brave's error tag on a 4xx: the status wins", { 'http.status_code': '404', error: '404' }, false],
    [
      '2xx with otel.status_code=ERROR: the status wins',
      { 'http.status_code': '200', 'otel.status_code': 'ERROR' },
      false,
    ],
    ['an error tag without status, even empty', { error: '' }, true],
    ['otel.status_code=ERROR without status', { 'otel.status_code': 'ERROR' }, true],
    ['otel.status_code=OK', { 'otel.status_code': 'OK' }, false],
    ['a status that is not a number: the error tag decides', { 'http.status_code': 'n/a', error: 'x' }, true],
    ['no tags at all', {}, false],
  ])('%s', (_case, tags, error) => {
    expect(spanObservation(span({ tags }), routes)?.error).toBe(error);
  });

  it('keeps span kinds apart in the series source; a root without kind is a server, a local child is no request', () => {
    expect(spanObservation(span({ kind: 'CLIENT', parentId: '1' }), routes)?.source).toBe('client');
    expect(spanObservation(span({ kind: 'PRODUCER' }), routes)?.source).toBe('producer');
    expect(spanObservation(span({ kind: 'CONSUMER' }), routes)?.source).toBe('consumer');
    expect(spanObservation(span({ kind: undefined }), routes)?.source).toBe('server');
    expect(spanObservation(span({ kind: undefined, parentId: '0000000000000009' }), routes)).toBeUndefined();
  });

  it('does not count spans without a service or a start time; a span without duration counts without latency', () => {
    expect(spanObservation(span({ serviceName: undefined }), routes)).toBeUndefined();
    expect(spanObservation(span({ timestampUs: undefined }), routes)).toBeUndefined();
    const observation = spanObservation(span({ durationUs: undefined }), routes);
    expect(observation).toBeDefined();
    expect(observation).not.toHaveProperty('durationUs');
  });

  it.each([
    ['http.method', { tags: { 'http.method': 'post' } }, 'POST'],
    ['http.request.method (OpenTelemetry stable)', { tags: { 'http.request.method': 'PUT' } }, 'PUT'],
    ['a span named after the method (Brave, zipkin-js)', { name: 'delete' }, 'DELETE'],
    ['a span named "method route" (OpenTelemetry)', { name: 'get /items/:id' }, 'GET'],
    ['a messaging span', { name: 'poll' }, '-'],
    ['a span without name', { name: undefined }, '-'],
  ])('method from %s', (_case, fields, method) => {
    expect(spanObservation(span(fields), routes)?.method).toBe(method);
  });

  it('adds what counts to the batch and reports both numbers', () => {
    const batch = new BatchAggregate([5000]);
    const summary = observeSpans(
      [span(), span({ tags: { 'http.status_code': '502' } }), span({ serviceName: undefined })],
      routes,
      batch,
    );
    expect(summary).toEqual({ received: 3, counted: 2 });
    const [series] = [...batch.series.values()];
    const [bucket] = [...series!.minutes.values()];
    expect(bucket).toMatchObject({ total: 2, errors: 1 });
    expect(bucket?.thresholds.get(5000)).toBe(2);
  });
});
