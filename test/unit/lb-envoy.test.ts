import { describe, expect, it } from 'vitest';
import { parseEnvoyLine } from '../../src/ingest/loadbalancer/envoy.js';
import { expectLine, fixtureLines, fixtureTable } from '../helpers/lbFixtures.js';

describe('envoy default access log format', () => {
  // envoyproxy/envoy docs "Example of the default Envoy access log format" (SOURCES.md).
  fixtureTable(parseEnvoyLine, 'envoy-default-access.log', [
    {
      time: '2016-04-15T20:17:00.310Z',
      method: 'POST',
      route: '/api/v1/locations',
      status: 204,
      durationUs: 226_000,
      targetDurationUs: 100_000,
      host: 'locations',
    },
  ]);

  const line = fixtureLines('envoy-default-access.log')[0]!;

  it('reads response code 0 (downstream disconnect) as a client-closed request, not a failure', () => {
    expectLine(parseEnvoyLine, line.replace('" 204 - 154 0 226 100', '" 0 DC 154 0 226 -'), {
      status: 499,
      durationUs: 226_000,
      targetDurationUs: undefined,
    });
  });

  it.each([
    ['no bracket', 'not an Envoy default-format line'],
    ['[2016-04-15T20:17:00.310Z] "POST /a HTTP/2" abc - 1 2 3 4', 'bad RESPONSE_CODE'],
    ['[yesterday] "POST /a HTTP/2" 200 - 1 2 3 4', 'bad START_TIME'],
  ])('rejects %j', (bad, reason) => {
    expect(() => parseEnvoyLine(bad)).toThrow(reason);
  });
});
