import { describe } from 'vitest';
import { parseIngressNginxLine } from '../../src/ingest/loadbalancer/ingressNginx.js';
import { type Expected, fixtureTable } from '../helpers/lbFixtures.js';

describe('ingress-nginx upstreaminfo', () => {
  const web = 'default-web-8080';
  const web2 = 'default-web2-8080';
  const ok = (route: string, host: string, durationUs: number, targetDurationUs: number): Expected => ({
    route,
    host,
    status: 200,
    targetStatus: 200,
    durationUs,
    targetDurationUs,
  });
  // elastic/beats filebeat nginx ingress_controller test.log (SOURCES.md).
  fixtureTable(parseIngressNginxLine, 'nginx-ingress-upstreaminfo.log', [
    { time: '2020-02-07T11:48:51.000Z', method: 'POST', ...ok('/products', web, 1000, 0) },
    { method: 'GET', ...ok('/products/:id', web, 1000, 0) },
    { method: 'DELETE', ...ok('/products/:id', web, 0, 1000) },
    { method: 'PATCH', ...ok('/products/:id', web, 1000, 0) },
    // nginx itself answered 400 to a method that does not exist: no usable request to count.
    { rejected: 'bad request line "PATCHp' },
    { rejected: 'bad request line "geti' },
    ok('/products/:id', web, 1000, 0),
    ok('/products/:id', web, 1000, 0),
    ok('/favicon.ico', web, 0, 0),
    ok('/v2', web2, 2000, 1000),
    ok('/favicon.ico', web, 1000, 2000),
    ok('/products/:id', web, 1000, 1000),
    ok('/favicon.ico', web, 1000, 1000),
    ok('/products/:id', web, 2000, 2000),
    ok('/', web, 1000, 1000),
    ok('/favicon.ico', web, 1000, 2000),
    ok('/v2', web2, 2000, 2000),
    ok('/favicon.ico', web, 1000, 0),
    ok('/products/:id', web, 0, 1000),
    ok('/v2', web2, 0, 1000),
    ok('/favicon.ico', web, 1000, 0),
    ok('/v2/some', web2, 1000, 0),
    // Two upstreams tried: the last one's status (203) is the target's; their times add up (0.100 + 0.004).
    { route: '/v2/some', status: 200, targetStatus: 203, durationUs: 1000, targetDurationUs: 104_000 },
    {
      route: '/A%20Beka%20G1%20Howe/029_AND_30/15%20reading%20elephants.mp4',
      targetStatus: 203,
      targetDurationUs: 104_000,
    },
    {
      time: '2022-08-24T21:04:17.000Z',
      method: 'POST',
      ...ok('/_bulk', 'esmon-esmon-es-http-9200', 33_000, 36_000),
    },
    {
      route: '/favicon.ico',
      host: 'localhost-8080',
      status: 502,
      targetStatus: 502,
      durationUs: 0,
      targetDurationUs: 0,
    },
    { route: '/favicon.ico', status: 502, targetStatus: 502 },
    // unix socket upstream
    ok('/products/:id', web, 2000, 2000),
    // "-" entries in the lists are upstreams that gave no value: the last real one counts.
    { route: '/test/test.mp4', status: 200, targetStatus: 200, targetDurationUs: 100_000 },
  ]);
});
