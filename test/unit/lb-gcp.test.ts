import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGcpLine } from '../../src/ingest/loadbalancer/gcp.js';
import { expectLine, fixtureTable } from '../helpers/lbFixtures.js';

describe('Google Cloud load balancer LogEntry', () => {
  // elastic/integrations gcp loadbalancing_logs (Cloud CDN hits: no latency logged) (SOURCES.md).
  const cached = {
    time: '2020-06-08T23:41:30.078Z',
    method: 'GET',
    route: '/static/us/three-cats.jpg',
    status: 304,
    durationUs: undefined,
  };
  fixtureTable(parseGcpLine, 'gcp-lb-requests.elastic-cdn.jsonl', [
    { ...cached, host: '81.2.69.193' },
    { ...cached, host: 'pictures.example.com' },
    { ...cached, host: '81.2.69.193' },
  ]);

  it('reads the pretty-printed OpenTelemetry fixture once compacted to one line', () => {
    const entry = JSON.parse(
      readFileSync(new URL('../fixtures/lb/gcp-lb-request.otel-contrib.json', import.meta.url), 'utf8'),
    );
    expectLine(parseGcpLine, JSON.stringify(entry), {
      time: '2023-04-21T15:59:24.827Z',
      method: 'POST',
      route: '/graphql',
      host: 'sn.mmapp.wave.com',
      status: 200,
      durationUs: 248_406,
    });
  });

  it('keeps nanoseconds of a Duration as a fraction of a microsecond', () => {
    const line = JSON.stringify({
      timestamp: '2026-01-01T00:00:00Z',
      httpRequest: {
        requestMethod: 'GET',
        requestUrl: 'https://a.example/x',
        status: 0,
        latency: '1.000000500s',
      },
    });
    expectLine(parseGcpLine, line, { durationUs: 1_000_000.5, status: 499 });
  });

  it.each([
    ['{"timestamp":"2026-01-01T00:00:00Z","textPayload":"hello"}', 'without httpRequest', true],
    [
      '{"timestamp":"2026-01-01T00:00:00Z","httpRequest":{"requestMethod":"GET","requestUrl":"https://a/","status":200,"latency":"12ms"}}',
      'bad httpRequest.latency',
      false,
    ],
    [
      '{"timestamp":"2026-01-01T00:00:00Z","httpRequest":{"requestMethod":"GET","requestUrl":"https://a/"}}',
      'bad httpRequest.status',
      false,
    ],
    ['[1,2]', 'not a JSON object', false],
  ])('refuses %j', (line, reason, skipped) => {
    expectLine(parseGcpLine, line, skipped ? { skipped: reason } : { rejected: reason });
  });

  it('never crashes on a line that is not JSON', () => {
    expect(() => parseGcpLine('{"httpRequest":')).toThrow('not a JSON object');
  });
});
