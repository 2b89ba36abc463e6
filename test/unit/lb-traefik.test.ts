import { describe, it } from 'vitest';
import { parseTraefikLine } from '../../src/ingest/loadbalancer/traefik.js';
import { expectLine, fixtureTable } from '../helpers/lbFixtures.js';

describe('traefik access logs', () => {
  // elastic/integrations traefik test-format-json.log: durations in NANOseconds (SOURCES.md).
  fixtureTable(parseTraefikLine, 'traefik-access.json.log', [
    {
      time: '2021-03-16T18:56:54.735Z',
      method: 'GET',
      route: '/',
      status: 404,
      targetStatus: 404,
      durationUs: 40.356,
      targetDurationUs: 4.086,
    },
    { status: 200, durationUs: 100, targetDurationUs: 2155.389, host: 'backend.docker.docker.localhost' },
    { route: '/ping', status: 200, durationUs: 24.814 },
    { route: '/foo/bar/baz.php', status: 404, durationUs: 486.767, time: '2024-02-02T17:07:08.048Z' },
    { route: '/1.0.0/acme/current/foo.png', status: 304, durationUs: 46_382.173 },
    {
      route: '/api/v1/study/:id/card/comment',
      status: 200,
      durationUs: 59_518.533,
      host: 'api-students.unpad.ac.id',
    },
    // No backend answered: no OriginStatus, so the target choice falls back to the edge status.
    { route: '/', status: 404, targetStatus: undefined, durationUs: 32.673 },
  ]);

  // elastic/integrations traefik test-format-common.log: CLF + `<N>ms` (SOURCES.md).
  fixtureTable(parseTraefikLine, 'traefik-access-common.log', [
    {
      time: '2017-10-02T20:22:07.000Z',
      method: 'GET',
      route: '/ui/favicons/favicon-16x16.png',
      status: 304,
      durationUs: 2000,
    },
    { status: 304, durationUs: 3000 },
    { route: '/en/', status: 200, durationUs: 247_000 },
    { route: '/', status: 404, durationUs: 0 },
    { route: '/assets/:id/owners', status: 200, durationUs: 13_000 },
    { route: '/marketplace/tax', status: 200, durationUs: 8000 },
    // Plain CLF: no duration, counts for availability only.
    { time: '2000-10-10T20:55:36.000Z', route: '/apache_pb.gif', status: 200, durationUs: undefined },
    // Status "-": no response was written (the client went away).
    { route: '/', status: 499, durationUs: 0 },
  ]);

  it.each([
    [
      '{"DownstreamStatus":200,"RequestMethod":"GET","RequestPath":"/","StartUTC":"2024-01-01T00:00:00Z","Duration":1.5}',
      'bad Duration',
    ],
    [
      '{"RequestMethod":"GET","RequestPath":"/","StartUTC":"2024-01-01T00:00:00Z"}',
      'missing DownstreamStatus',
    ],
    [
      '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2 "-" "-" 1 "r" "s" fast',
      'ms after the user agent',
    ],
  ])('rejects %j', (line, reason) => {
    expectLine(parseTraefikLine, line, { rejected: reason });
  });
});
