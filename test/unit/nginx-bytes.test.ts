import { describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { type AccessLogEntry, LineRejected } from '../../src/ingest/loadbalancer/format.js';
import { ingestBytes, ingestLines } from '../../src/ingest/loadbalancer/lines.js';
import { parseNginxLine } from '../../src/ingest/loadbalancer/nginx.js';
import { parseNginxBytes } from '../../src/ingest/loadbalancer/nginxBytes.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { fixtureLines } from '../helpers/lbFixtures.js';

/**
 * `sloguard import` reads the usual nginx line from bytes (nginxBytes.ts) and hands every other line to
 * parseNginxLine as text: for any bytes the two together must give what parseNginxLine gives the decoded line.
 */

/** The entry, or the rejection's reason: what a line becomes either way. */
function outcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof LineRejected)) throw error;
    return { rejected: error.message, skipped: error.skipped };
  }
}

/** The line between other lines in one buffer, as a chunk holds it: nothing past its end may be read. */
function inChunk(line: Buffer): { chunk: Buffer; start: number; end: number } {
  const before = Buffer.from(
    '9.9.9.9 - - [01/Jan/2026:00:00:00 +0000] "GET /before HTTP/1.1" 200 1 "-" "-" 1\n',
  );
  const after = Buffer.from('\n 0.5 "x" 200 "HTTP/1.1" ]\n');
  return {
    chunk: Buffer.concat([before, line, after]),
    start: before.length,
    end: before.length + line.length,
  };
}

/** parseNginxBytes' entry with its path and agent decoded (it leaves them in the bytes until needed). */
function entryOfBytes(chunk: Buffer, start: number, end: number): AccessLogEntry | undefined {
  const entry = parseNginxBytes(chunk, start, end);
  if (!entry) return undefined;
  const { pathStart, pathEnd, agentStart, agentEnd, ...fields } = entry;
  return {
    ...fields,
    path: chunk.toString('utf8', pathStart, pathEnd),
    userAgent: chunk.toString('utf8', agentStart, agentEnd),
  };
}

function viaBytes(line: Buffer): unknown {
  const { chunk, start, end } = inChunk(line);
  return outcome(() => entryOfBytes(chunk, start, end) ?? parseNginxLine(line.toString('utf8')));
}

const viaText = (line: Buffer) => outcome(() => parseNginxLine(line.toString('utf8')));

/** The fixture lines as they are, and with a `$request_time` after them (the documented format). */
const usual = fixtureLines('nginx-combined.log').flatMap((line) => [line, `${line} 0.123`, `${line} 7`]);
const corpus = [
  ...usual,
  ...fixtureLines('nginx-ingress-upstreaminfo.log'),
  '127.0.0.1 - alice [23/Nov/2026:10:15:30 +0100] "GET /profile/42?tab=posts HTTP/1.1" 503 1234 "https://example.com/" "curl/8.5.0" 0.512',
  '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "DELETE /ünïcode/路径 HTTP/2.0" 204 - "-" "Mozilla/5.0 (X11) ☃" 12.123456789',
  '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "PROPFIND /dav HTTP/1.1" 207 5 "-" "" 0.000',
].map((line) => Buffer.from(line, 'utf8'));

/** Each byte of a usual line replaced by, and preceded by, bytes that structure a line or break its text. */
function mutations(line: Buffer): Buffer[] {
  const hostile = [
    '"',
    '\\',
    ' ',
    '[',
    ']',
    '\r',
    '-',
    '.',
    '9',
    'A',
    'a',
    '\t',
    '\u0000',
    '\u2028',
    'é',
  ].map((text) => Buffer.from(text, 'utf8'));
  // Broken UTF-8: a lone continuation byte, a truncated sequence, an overlong one.
  hostile.push(Buffer.from([0x80]), Buffer.from([0xe2, 0x80]), Buffer.from([0xc0, 0xaf]));
  const out: Buffer[] = [];
  for (let i = 0; i <= line.length; i++) {
    out.push(line.subarray(0, i));
    for (const bytes of hostile) {
      out.push(Buffer.concat([line.subarray(0, i), bytes, line.subarray(i + 1)]));
      out.push(Buffer.concat([line.subarray(0, i), bytes, line.subarray(i)]));
    }
  }
  return out;
}

describe('nginx lines read from bytes', () => {
  it('reads the usual lines without their text, as parseNginxLine reads them', () => {
    const read = corpus.filter((line) => {
      const { chunk, start, end } = inChunk(line);
      return parseNginxBytes(chunk, start, end) !== undefined;
    });
    // Five fixture lines with a $request_time (not the one with an extra field, nor the empty request), the
    // documented one, the Unicode one and PROPFIND.
    expect(read).toHaveLength(2 * 5 + 3);
    for (const line of corpus) expect(viaBytes(line), line.toString()).toEqual(viaText(line));
  });

  it('gives the same entry or the same rejection for hostile bytes anywhere in a line', () => {
    const seeds = [corpus[1]!, corpus.at(-2)!];
    let fromBytes = 0;
    for (const line of seeds.flatMap(mutations)) {
      const { chunk, start, end } = inChunk(line);
      if (parseNginxBytes(chunk, start, end)) fromBytes += 1;
      expect(viaBytes(line), JSON.stringify(line.toString('latin1'))).toEqual(viaText(line));
    }
    // Mutations inside the path, user agent and digits keep a usual line: the fast path was exercised.
    expect(fromBytes).toBeGreaterThan(100);
  });

  it('counts a chunk of lines exactly as the text reader does: blank, CR, over-long and bad lines', () => {
    const lines = [
      ...usual,
      '',
      '   ',
      '\r',
      `${usual[1]}\r`,
      ` ${usual[1]}`,
      'not a log line',
      `1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET /${'é'.repeat(9000)} HTTP/1.1" 200 5 "-" "-" 0.1`,
      `1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET /${'a'.repeat(17_000)} HTTP/1.1" 200 5 "-" "-" 0.1`,
      '1.2.3.4 - - [01/Jan/1900:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-" 0.1',
      usual.at(-2)!,
    ];
    const bytes = Buffer.from(lines.join('\n'), 'utf8');
    const run = (read: (batch: BatchAggregate, position: { lines: number }) => unknown) => {
      const batch = new BatchAggregate([100_000], {
        fromMs: Date.UTC(2000, 0, 1),
        toMs: Date.UTC(2030, 0, 1),
      });
      const position = { lines: 10 };
      const summary = read(batch, position);
      return { summary, position, series: [...batch.series.values()], observations: batch.observations };
    };
    const context = (position: { lines: number }) => ({
      source: 'edge',
      service: 'web',
      routes: new ServiceRoutes(() => ['/ocelot']),
      position,
    });
    const fromText = run((batch, position) =>
      ingestLines(bytes.toString('utf8'), parseNginxLine, context(position), batch),
    );
    const fromBytes = run((batch, position) =>
      ingestBytes(bytes, parseNginxLine, parseNginxBytes, context(position), batch),
    );
    expect(fromBytes).toEqual(fromText);
    expect(fromText.summary).toMatchObject({
      accepted: 21,
      rejected: 3,
      skipped: 4,
      reasons: { line_too_long: 1, invalid_line: 1, time_out_of_range: 1 },
    });
    expect(fromText.position.lines).toBe(10 + lines.length);
  });
});
