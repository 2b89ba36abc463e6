import { describe, expect, it } from 'vitest';
import { parseNginxJsonLine } from '../../src/ingest/loadbalancer/nginxJson.js';
import { expectLine } from '../helpers/lbFixtures.js';

/** What nginx writes with the README's `escape=json` log_format (a real nginx writes it in lb-tail). */
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    time: '2026-11-23T10:15:30+01:00',
    method: 'GET',
    uri: '/profile/42?tab=1',
    status: 200,
    request_time: 0.123,
    host: 'profile.example.com',
    upstream_status: '200',
    upstream_response_time: '0.120',
    ...fields,
  });

describe('nginx escape=json', () => {
  it.each([
    [
      {},
      {
        time: '2026-11-23T09:15:30.000Z',
        method: 'GET',
        route: '/profile/:id',
        status: 200,
        durationUs: 123_000,
        targetStatus: 200,
        targetDurationUs: 120_000,
        host: 'profile.example.com',
      },
    ],
    [
      { status: '503', request_time: '1.5' },
      { status: 503, durationUs: 1_500_000 },
    ],
    [
      { upstream_status: '502, 200', upstream_response_time: '0.100, 0.004' },
      { targetStatus: 200, targetDurationUs: 104_000 },
    ],
    [
      { upstream_status: '', upstream_response_time: '' },
      { targetStatus: undefined, targetDurationUs: undefined },
    ],
    [{ time: undefined, msec: 1795432442.123 }, { time: '2026-11-23T11:14:02.123Z' }],
    [
      { method: undefined, uri: undefined, request: 'POST /a HTTP/1.1' },
      { method: 'POST', route: '/a' },
    ],
    [{ status: 0 }, { status: 499 }],
  ])('%j', (fields, want) => {
    expectLine(parseNginxJsonLine, line(fields), want);
  });

  it.each([
    [{ status: 'abc' }, 'bad status'],
    [{ request_time: '-0.1' }, 'bad request_time'],
    [{ time: 'yesterday' }, 'bad time'],
    [{ method: undefined, uri: undefined, request: '' }, 'empty request line'],
    [{ uri: '' }, 'missing uri'],
  ])('refuses %j', (fields, reason) => {
    expect(() => parseNginxJsonLine(line(fields))).toThrow(reason);
  });
});
