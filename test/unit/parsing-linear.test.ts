import { describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { LineRejected, upstreamValues } from '../../src/ingest/loadbalancer/format.js';
import { LOG_FORMATS } from '../../src/ingest/loadbalancer/formats.js';
import { ingestChunks, ingestLines, MAX_LINE_CHARS } from '../../src/ingest/loadbalancer/lines.js';
import { RouteNormalizer, ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { parseExposition } from '../../src/ingest/scrape/exposition.js';
import { countJsonListItems, decodeJsonSpans } from '../../src/ingest/zipkin/json.js';
import { countProtoSpans, ListOfSpans } from '../../src/ingest/zipkin/proto.js';
import { MAX_SPANS_PER_BATCH } from '../../src/ingest/zipkin/span.js';
import { cpuMs } from '../helpers/cpu.js';
import { seededRandom } from '../helpers/random.js';

/**
 * Issue #15, finding 5: worst-case inputs per format. Each parse must take time proportional to the line;
 * the regexes this replaced took seconds to minutes on these lines (a 64 KB nginx upstream field of spaces:
 * 7 s; a 256 KB HAProxy line: about 3 s; `/api/*\/*\/*\/status` on an 8 KB path: 73 s). The bound is
 * CPU time, generous enough for a loaded 2-core machine and far below what a backtracking regex costs.
 */
const BOUND_MS = 250;
const KB = 1024;

/** Parses a line, counting a refusal as an answer: only the time matters here. */
function parseTime(format: string, line: string): number {
  const parse = LOG_FORMATS[format]!;
  return cpuMs(() => {
    try {
      parse(line);
    } catch (error) {
      if (!(error instanceof LineRejected)) throw error;
    }
  });
}

const spaces = (n: number) => ' '.repeat(n);
const combined = '1.2.3.4 - - [23/Nov/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua"';
const haproxyHead =
  '127.0.0.1:40000 [23/Nov/2026:10:00:00.250] fe be/app1 0/0/1/2/5 200 0 - - ---- 1/1/0/0/0 0/0';

/** Lines built to make a backtracking regex retry at every position, one set per format. */
const HOSTILE: Record<string, string[]> = {
  nginx: [
    `${combined} 0.001 "${spaces(64 * KB)}" "0.1"`,
    `${combined} 0.001 "200" "${' ,'.repeat(32 * KB)}x"`,
    `${'['.repeat(64 * KB)}`,
    `1.2.3.4 - - [23/Nov/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "${'\\"'.repeat(32 * KB)}`,
    `${combined} 0.001 ${' "'.repeat(32 * KB)}`,
    `${'[23/Nov/2026:10:00:00 +0000] "GET '.repeat(2 * KB)}`,
  ],
  'nginx-json': [
    JSON.stringify({
      time: '2026-11-23T10:00:00Z',
      method: 'GET',
      uri: '/a',
      status: 200,
      upstream_status: spaces(64 * KB),
    }),
    JSON.stringify({
      request: `GET ${'/'.repeat(64 * KB)} HTTP/1.1`,
      status: 200,
      time: '2026-11-23T10:00:00Z',
    }),
  ],
  'ingress-nginx': [
    `${combined} 100 0.001 [up] [] ${spaces(64 * KB)}x`,
    `${combined} 100 0.001 [up] [] 1.1.1.1:80 5 ${' , '.repeat(16 * KB)} 200 id`,
    `${combined} 100 0.001 ${'[a] '.repeat(16 * KB)}`,
  ],
  haproxy: [
    // Every accept date retried the fields and `(.*)$` to the carriage return: quadratic.
    `${'a:1 [23/Nov/2026:10:00:00] f b t s x '.repeat(7 * KB)}\r`,
    `${'a:1 [23/Nov/2026:10:00:00.250]'.repeat(8 * KB)}`,
    `${'x '.repeat(128 * KB)}1:1 [`,
    `${'a:1 ['.repeat(48 * KB)}`,
    `${haproxyHead} ${'{'.repeat(64 * KB)}`,
    `${spaces(256 * KB)}1`,
  ],
  alb: [`http 2026-11-23T10:00:00Z elb ${'"'.repeat(64 * KB)}`, `http ${'\\"'.repeat(32 * KB)}`],
  envoy: [`[2026-11-23T10:00:00Z] "${'GET '.repeat(16 * KB)}" 200`, `[${']'.repeat(64 * KB)}`],
  gcp: [
    JSON.stringify({
      httpRequest: {
        requestMethod: 'GET',
        requestUrl: `http://h/${'a'.repeat(64 * KB)}`,
        latency: `${'1'.repeat(64 * KB)}s`,
      },
      timestamp: '2026-11-23T10:00:00Z',
    }),
  ],
  traefik: [
    `${combined} 1 "${spaces(64 * KB)}" "x" ${'9'.repeat(64 * KB)}`,
    `${combined} ${' 1 "a" "b" 1ms'.repeat(4 * KB)}!`,
  ],
  jsonl: [
    `{"time":1,"method":"GET","path":"/${'a'.repeat(64 * KB)}","status":200,"duration_ms":"${'1'.repeat(KB)}"}`,
  ],
};

describe('linear-time log parsing (finding 5)', () => {
  it('splits nginx upstream lists without backtracking, as the regex did', () => {
    expect(upstreamValues('0.100, 0.004 : 0.002, -')).toEqual(['0.100', '0.004', '0.002']);
    expect(upstreamValues(' 502 ,504: 200 ')).toEqual(['502', '504', '200']);
    expect(upstreamValues('-')).toEqual([]);
    expect(cpuMs(() => upstreamValues(spaces(64 * KB)))).toBeLessThan(BOUND_MS);
  });

  for (const [format, lines] of Object.entries(HOSTILE)) {
    it(`${format}: every hostile line parses in time proportional to its length`, () => {
      for (const [index, line] of lines.entries()) {
        const ms = parseTime(format, line);
        expect(ms, `${format} line ${index} (${line.length} chars) took ${ms.toFixed(0)} ms`).toBeLessThan(
          BOUND_MS,
        );
      }
    });
  }

  it('covers every format', () => {
    expect(Object.keys(HOSTILE).sort()).toEqual(Object.keys(LOG_FORMATS).sort());
  });

  it('reads a Prometheus exposition with hostile label values and spacing in linear time', () => {
    const text = [
      `m{a="${'\\"'.repeat(32 * KB)}"} 1`,
      `m${spaces(64 * KB)}1${spaces(64 * KB)}2`,
      `m{${'a="",'.repeat(8 * KB)}} 1`,
    ].join('\n');
    let samples = 0;
    expect(cpuMs(() => (samples = parseExposition(text).length))).toBeLessThan(BOUND_MS);
    expect(samples).toBe(3);
  });
});

/** The matcher routes.ts compiled templates to before: a regex, `*` as `.*`. Same answers are expected. */
function regexOf(template: string): RegExp {
  const body = template
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':') || (segment.startsWith('{') && segment.endsWith('}'))) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${body}/?$`);
}

describe('route templates match segment-wise (finding 5)', () => {
  it('answers as the regex did on short random templates and paths', () => {
    const seed = 1515;
    const next = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const pieces = ['a', 'b', '', '*', ':id', '{slug}', 'a*', '.'];
    const words = ['a', 'b', '', '.', 'x', 'a*'];
    for (let round = 0; round < 3000; round++) {
      const template = `/${Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(pieces)).join('/')}`;
      const path = `/${Array.from({ length: Math.floor(next() * 6) }, () => pick(words)).join('/')}`;
      const routes = new RouteNormalizer([template]);
      const expected = regexOf(template).test(path);
      expect(routes.route(path) === template, `seed ${seed}: ${template} on ${path}`).toBe(expected);
    }
  });

  it('matches /api/*/*/*/status against an 8 KB path in linear time', () => {
    const routes = new RouteNormalizer(['/api/*/*/*/status']);
    const path = `/api/${'a/'.repeat(4 * KB)}x`;
    let route = '';
    expect(cpuMs(() => (route = routes.route(path)))).toBeLessThan(BOUND_MS);
    expect(route).not.toBe('/api/*/*/*/status');
    expect(routes.route('/api/a/b/c/d/status')).toBe('/api/*/*/*/status');
  });
});

describe('lines arriving in chunks', () => {
  const routes = new ServiceRoutes(() => []);
  const context = { source: 'lb', service: 'web', routes };
  async function* pieces(text: string, size: number): AsyncGenerator<Buffer> {
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  }

  it('joins lines and characters split between chunks, numbering lines as one text', async () => {
    const line = `{"time":1764000000000,"method":"GET","path":"/é€😀","status":200}`;
    const text = [line, 'garbage', '', line, `${line}\r`].join('\n');
    for (const size of [1, 3, 7, 64, 1 << 16]) {
      const batch = new BatchAggregate();
      const summary = await ingestChunks(pieces(text, size), LOG_FORMATS.jsonl!, context, batch);
      expect(summary, `chunks of ${size}`).toEqual({
        accepted: 3,
        rejected: 1,
        skipped: 0,
        reasons: { invalid_line: 1 },
        problems: [{ line: 2, reason: 'not a JSON object' }],
      });
      expect([...batch.series.values()].map((series) => series.key.operation)).toEqual(['/é€😀']);
    }
  });

  it('drops a line past the limit as it arrives and counts it, in any chunking', async () => {
    const good = '{"time":1764000000000,"method":"GET","path":"/a","status":200}';
    const text = `${good}\n${'x'.repeat(3 * MAX_LINE_CHARS)}\n${good}\n${'y'.repeat(MAX_LINE_CHARS + 1)}`;
    for (const size of [1000, 4096, 1 << 16]) {
      const summary = await ingestChunks(
        pieces(text, size),
        LOG_FORMATS.jsonl!,
        context,
        new BatchAggregate(),
      );
      expect(summary, `chunks of ${size}`).toMatchObject({
        accepted: 2,
        rejected: 2,
        reasons: { line_too_long: 2 },
      });
      expect(summary.problems.map((problem) => problem.line)).toEqual([2, 4]);
    }
    const whole = ingestLines(text, LOG_FORMATS.jsonl!, context, new BatchAggregate());
    expect(whole).toMatchObject({ accepted: 2, rejected: 2, reasons: { line_too_long: 2 } });
  });
});

describe('span counts before parsing', () => {
  it('counts the items of a JSON list, skipping strings, nesting and escapes', () => {
    const count = (text: string) => countJsonListItems(Buffer.from(text));
    expect(count('[]')).toBe(0);
    expect(count(' [ {"a":[1,2,{"b":"]}[{"}}] , {"c":"\\"{"} ]')).toBe(2);
    expect(count('[1, 22 ,"x", null, [3,4]]')).toBe(5);
  });

  it('counts the spans of a ListOfSpans by its top-level fields', () => {
    const spans = ListOfSpans.encode(
      ListOfSpans.fromObject({ spans: [{ name: 'a' }, {}, { name: 'x'.repeat(300) }] }),
    ).finish();
    expect(countProtoSpans(Buffer.from(spans))).toBe(3);
    expect(countProtoSpans(Buffer.alloc(0))).toBe(0);
  });

  it(`refuses more than ${MAX_SPANS_PER_BATCH} spans with 413 before decoding any`, () => {
    const body = Buffer.from(
      `[${Array(MAX_SPANS_PER_BATCH + 1)
        .fill('{}')
        .join(',')}]`,
    );
    expect(() => decodeJsonSpans(body)).toThrow(
      expect.objectContaining({ status: 413, code: 'too_many_spans' }),
    );
  });

  it('counts a body over 1 MiB before parsing it, so a huge list of tiny items is refused unparsed', () => {
    // Over the cap and over 1 MiB, and not JSON at its end: only the count can refuse it with 413, since
    // JSON.parse would refuse it as malformed (400).
    const items = Array(MAX_SPANS_PER_BATCH + 1).fill(`{}${' '.repeat(20)}`);
    const body = Buffer.from(`[${items.join(',')}`);
    expect(body.length).toBeGreaterThan(1024 * 1024);
    expect(() => decodeJsonSpans(body)).toThrow(
      expect.objectContaining({ status: 413, code: 'too_many_spans' }),
    );
  });

  it('refuses an unterminated list under 1 MiB as Zipkin does, malformed', () => {
    expect(() => decodeJsonSpans(Buffer.from('[{"traceId":"1","id":"2"}'))).toThrow(
      expect.objectContaining({ status: 400, message: 'Malformed reading List<Span> from json' }),
    );
  });
});
