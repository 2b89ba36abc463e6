import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LineRejected } from '../../src/ingest/loadbalancer/format.js';
import { parseNginxLine } from '../../src/ingest/loadbalancer/nginx.js';

const fixture = readFileSync(new URL('../fixtures/lb/nginx-combined.log', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);

describe('nginx combined + $request_time', () => {
  it('parses the documented format exactly', () => {
    const entry = parseNginxLine(
      '127.0.0.1 - alice [23/Nov/2026:10:15:30 +0100] "GET /profile/42?tab=posts HTTP/1.1" 503 1234 "https://example.com/" "curl/8.5.0" 0.512',
    );
    expect(entry).toEqual({
      timeMs: Date.UTC(2026, 10, 23, 9, 15, 30),
      method: 'GET',
      path: '/profile/42?tab=posts',
      status: 503,
      durationUs: 512_000,
      // Exclusion rules (bots) read it.
      userAgent: 'curl/8.5.0',
    });
  });

  it('converts $request_time to microseconds without float error', () => {
    const line = (t: string) =>
      `1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "POST /a HTTP/2.0" 200 5 "-" "-" ${t}`;
    expect(parseNginxLine(line('0.001')).durationUs).toBe(1_000);
    expect(parseNginxLine(line('0.123')).durationUs).toBe(123_000);
    expect(parseNginxLine(line('12.5')).durationUs).toBe(12_500_000);
    expect(parseNginxLine(line('0')).durationUs).toBe(0);
  });

  it('handles escaped quotes in the request and user agent', () => {
    const entry = parseNginxLine(
      '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET /q\\"x HTTP/1.1" 200 5 "-" "Agent \\"quoted\\"" 0.004',
    );
    expect(entry.path).toBe('/q\\"x');
    expect(entry.durationUs).toBe(4_000);
    expect(entry.userAgent).toBe('Agent \\"quoted\\"');
  });

  // Expected values per line of test/fixtures/lb/nginx-combined.log (upstream: elastic/beats).
  const expected: Array<{ status: number; method: string; path: string; timeMs: number } | string> = [
    { status: 200, method: 'GET', path: '/ocelot', timeMs: Date.UTC(2016, 11, 7, 10, 5, 7) },
    { status: 404, method: 'GET', path: '/stringpatch', timeMs: Date.UTC(2017, 4, 29, 19, 2, 48) },
    { status: 200, method: 'GET', path: '/ocelot', timeMs: Date.UTC(2016, 11, 7, 10, 5, 7) },
    { status: 200, method: 'GET', path: '/ocelot', timeMs: Date.UTC(2016, 11, 7, 10, 5, 7) },
    { status: 200, method: 'GET', path: '/assets/xxxx?q=100', timeMs: Date.UTC(2016, 0, 22, 13, 18, 29) },
    { status: 404, method: 'GET', path: '/test.html', timeMs: Date.UTC(2016, 11, 30, 6, 47, 9) },
    'skipped: empty request line',
  ];

  it.each(fixture.map((line, index) => [index + 1, line, expected[index]!] as const))(
    'fixture line %i',
    (_n, line, want) => {
      if (typeof want === 'string') {
        let thrown: unknown;
        try {
          parseNginxLine(line);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(LineRejected);
        expect((thrown as LineRejected).skipped).toBe(true);
        expect((thrown as Error).message).toContain('empty request line');
        return;
      }
      const entry = parseNginxLine(line);
      expect({ status: entry.status, method: entry.method, path: entry.path, timeMs: entry.timeMs }).toEqual(
        want,
      );
      // Plain combined lines carry no $request_time: no duration, still counted for availability.
      expect(entry.durationUs).toBeUndefined();
    },
  );

  it('has an expectation for every fixture line', () => {
    expect(fixture).toHaveLength(expected.length);
  });

  it.each([
    ['garbage', 'not an nginx combined line'],
    ['1.2.3.4 - - [99/Foo/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-" 0.1', 'bad $time_local'],
    ['1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "\\x16\\x03" 400 5 "-" "-" 0.1', 'bad request line'],
    ['1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-" abc', 'bad $request_time'],
  ])('rejects %j with a reason', (line, reason) => {
    expect(() => parseNginxLine(line)).toThrow(reason);
  });
});
