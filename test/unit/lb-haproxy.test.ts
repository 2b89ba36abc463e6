import { describe, expect, it } from 'vitest';
import { parseHaproxyLine } from '../../src/ingest/loadbalancer/haproxy.js';
import { expectLine, fixtureTable } from '../helpers/lbFixtures.js';

describe('haproxy httplog', () => {
  // haproxy/haproxy doc/configuration.txt §8.2.3 and §8.9 (test/fixtures/lb/SOURCES.md).
  fixtureTable(parseHaproxyLine, 'haproxy-httplog.log', [
    {
      method: 'GET',
      route: '/index.html',
      status: 200,
      durationUs: 109_000,
      host: '1wt.eu',
      time: '2009-02-06T12:14:14.655Z',
    },
    { method: 'HEAD', route: '/', status: 200, durationUs: 6_723_000, host: undefined },
    { method: 'HEAD', route: '/', status: 200, durationUs: 6_870_000 },
    // `+30`: option logasap logged it before the end, so the total is unknown.
    { method: 'GET', route: '/image.iso', status: 200, durationUs: undefined },
    { method: 'GET', route: '/cgi-bin/bug.cgi', status: 502, durationUs: 30_000 },
    { skipped: 'empty request' },
    { skipped: 'empty request' },
    { skipped: 'TCP-mode line' },
    { method: 'HEAD', route: '/', status: 503, durationUs: 11_215_000 },
  ]);

  it('reads `log stdout format raw` lines (no syslog prefix) and -1 status as a client disconnect', () => {
    const line =
      '127.0.0.1:40000 [23/Nov/2026:10:00:00.250] fe be/app1 0/0/1/-1/5 -1 0 - - CD-- 1/1/0/0/0 0/0 "GET /profile/42 HTTP/1.1"';
    expectLine(parseHaproxyLine, line, {
      method: 'GET',
      route: '/profile/:id',
      status: 499,
      durationUs: 5000,
      time: '2026-11-23T10:00:00.250Z',
    });
  });

  it('skips the <BADREQ> line HAProxy writes for a connection that sent no valid request', () => {
    expectLine(
      parseHaproxyLine,
      '127.0.0.1:51924 [23/Nov/2026:11:35:44.440] fe fe/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>"',
      { skipped: '<BADREQ>' },
    );
  });

  it.each([
    ['garbage', 'not an HAProxy log line'],
    [
      '1.2.3.4:5 [01/Foo/2026:00:00:00.000] fe be/s 0/0/0/0/1 200 1 - - ---- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
      'month',
    ],
    [
      '1.2.3.4:5 [01/Jan/2026:00:00:00.000] fe be/s 0/0/0/0/1 abc 1 - - ---- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
      'bad status',
    ],
  ])('rejects %j', (line, reason) => {
    expect(() => parseHaproxyLine(line)).toThrow(reason);
  });
});
