import { describe, expect, it } from 'vitest';
import { parseAlbLine } from '../../src/ingest/loadbalancer/alb.js';
import { fixtureLines, fixtureTable } from '../helpers/lbFixtures.js';

describe('AWS ALB access log', () => {
  // awsdocs "Example log entries": http, https, h2, ws, wss, lambda ok, lambda 502 (SOURCES.md).
  const t = '2018-07-02T22:23:00.186Z';
  fixtureTable(parseAlbLine, 'aws-alb-access.log', [
    {
      time: t,
      method: 'GET',
      route: '/',
      host: 'www.example.com',
      status: 200,
      targetStatus: 200,
      durationUs: 1000,
    },
    { time: t, status: 200, durationUs: 171_000, targetDurationUs: 48_000 },
    { time: t, host: '10.0.2.105', status: 200, durationUs: 2000 },
    { time: t, status: 101, targetStatus: 101, durationUs: 4000, targetDurationUs: 3000 },
    { time: t, status: 101, durationUs: 1000 },
    { time: '2018-11-30T22:23:00.186Z', status: 200, targetStatus: 200, durationUs: 1000 },
    // Lambda answered badly: the load balancer sent 502, no target status ("-").
    { time: '2018-11-30T22:23:00.186Z', status: 502, targetStatus: undefined, durationUs: 1000 },
  ]);

  const first = fixtureLines('aws-alb-access.log')[0]!;

  it('gives no duration when a timer is -1 (the request was never dispatched)', () => {
    const entry = parseAlbLine(first.replace('0.000 0.001 0.000 200 200', '-1 -1 -1 460 -'));
    expect(entry.status).toBe(460);
    expect(entry.durationUs).toBeUndefined();
    expect(entry.targetStatus).toBeUndefined();
  });

  it('tolerates fields AWS appends later', () => {
    expect(parseAlbLine(`${first} "TID_123" "-" "new-field"`).status).toBe(200);
  });

  it.each([
    ['http not enough fields', 'not an ALB access log entry'],
    [first.replace('"GET http://www.example.com:80/ HTTP/1.1"', '"- - - "'), 'bad request'],
    [first.replace('0.000 0.001 0.000', '0.000 abc 0.000'), 'bad processing times'],
  ])('rejects %j', (line, reason) => {
    expect(() => parseAlbLine(line)).toThrow(reason);
  });
});
