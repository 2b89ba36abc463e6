import { describe, expect, it } from 'vitest';
import { parseJsonlLine } from '../../src/ingest/loadbalancer/jsonl.js';
import { expectLine } from '../helpers/lbFixtures.js';

const base = { time: '2026-11-23T10:15:30.123Z', method: 'get', path: '/profile/42', status: 200 };

describe('jsonl (sloguard shape)', () => {
  it.each([
    [
      {},
      {
        time: '2026-11-23T10:15:30.123Z',
        method: 'GET',
        route: '/profile/:id',
        status: 200,
        durationUs: undefined,
      },
    ],
    [{ duration_ms: 1.005 }, { durationUs: 1005 }],
    [{ duration_us: 250 }, { durationUs: 250 }],
    [{ duration_s: 0.25 }, { durationUs: 250_000 }],
    [{ time: 1795432442123 }, { time: '2026-11-23T11:14:02.123Z' }],
    [
      { host: 'a.example', target_status: 502, status: '200' },
      { host: 'a.example', targetStatus: 502, status: 200 },
    ],
  ])('%j', (fields, want) => {
    expectLine(parseJsonlLine, JSON.stringify({ ...base, ...fields }), want);
  });

  it.each([
    [{ path: 'profile' }, 'bad path'],
    [{ method: 7 }, 'bad method'],
    [{ duration_ms: '12' }, 'bad duration_ms'],
    [{ duration_ms: -1 }, 'bad duration_ms'],
    [{ status: 1000 }, 'bad status'],
  ])('refuses %j', (fields, reason) => {
    expect(() => parseJsonlLine(JSON.stringify({ ...base, ...fields }))).toThrow(reason);
  });
});
