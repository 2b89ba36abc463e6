import type { BytesEntry } from './format.js';
import { parseTimeLocal } from './nginx.js';

/**
 * The usual nginx line (nginx.ts's USUAL: the documented format with no escape in it and a plain
 * `$request_time` last) read straight from the file's bytes, for `sloguard import`: no string of the line, no
 * regex match and its captures; only a user agent unlike the last line's is decoded, and the path is left
 * in the bytes (pathRoutes.ts routes most paths without decoding them). Any other line answers undefined and goes to parseNginxLine as text, which says what is wrong with it, so
 * both give the same entry or the same rejection for every line (test/unit/nginx-bytes.test.ts).
 *
 * Bytes that structure the line (`[`, `]`, `"`, space, `\`) are ASCII, which no byte of a multi-byte UTF-8
 * character is, and invalid UTF-8 never absorbs an ASCII byte: fields found here are those the text shows.
 */

const SPACE = 32;
const QUOTE = 34;
const DASH = 45;
const DOT = 46;
const OPEN = 91;
const BACKSLASH = 92;
const CLOSE = 93;

const HTTP = Buffer.from('HTTP/', 'latin1');
const TIME_BYTES = 26;
/** `dd/Mmm/yyyy:hh:mm:ss ±hhmm` by byte: d digit, U upper, l lower, s sign, others themselves. */
const TIME_SHAPE = 'dd/Ull/dddd:dd:dd:dd sdddd';

const isDigit = (byte: number) => byte >= 48 && byte <= 57;

function timeShaped(bytes: Buffer, at: number): boolean {
  for (let i = 0; i < TIME_BYTES; i++) {
    const byte = bytes[at + i]!;
    const shape = TIME_SHAPE.charCodeAt(i);
    const ok =
      shape === 100 // d
        ? isDigit(byte)
        : shape === 85 // U
          ? byte >= 65 && byte <= 90
          : shape === 108 // l
            ? byte >= 97 && byte <= 122
            : shape === 115 // s
              ? byte === 43 || byte === DASH
              : byte === shape;
    if (!ok) return false;
  }
  return true;
}

/** Whether bytes[at, at + expected.length) are `expected`'s (a loop: shorter than a call into Buffer.compare). */
function sameBytes(bytes: Buffer, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** The last time field read and its epoch ms: consecutive lines nearly always share their second. */
const lastTime = Buffer.alloc(TIME_BYTES);
let lastTimeMs: number | undefined;

function timeAt(bytes: Buffer, at: number): number | undefined {
  if (lastTimeMs !== undefined && sameBytes(bytes, at, lastTime)) return lastTimeMs;
  if (!timeShaped(bytes, at)) return undefined;
  const ms = parseTimeLocal(bytes.toString('latin1', at, at + TIME_BYTES));
  if (ms !== undefined) {
    bytes.copy(lastTime, 0, at, at + TIME_BYTES);
    lastTimeMs = ms;
  }
  return ms;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'].map((name) => ({
  name,
  bytes: Buffer.from(name, 'latin1'),
}));

/** `[A-Z]+` in bytes[start, end), as a shared string for the usual methods. */
function methodAt(bytes: Buffer, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte < 65 || byte > 90) return undefined;
  }
  for (const method of METHODS) {
    if (method.bytes.length === end - start && sameBytes(bytes, start, method.bytes)) return method.name;
  }
  return bytes.toString('latin1', start, end);
}

/** The last user agent decoded, kept while lines repeat it (most of a file's lines share a few). */
let lastAgentBytes = Buffer.alloc(0);
let lastAgent = '';

function agentAt(bytes: Buffer, start: number, end: number): string {
  if (end - start !== lastAgentBytes.length || !sameBytes(bytes, start, lastAgentBytes)) {
    lastAgent = bytes.toString('utf8', start, end);
    lastAgentBytes = Buffer.from(bytes.subarray(start, end));
  }
  return lastAgent;
}

/** `\d+(\.\d{1,9})?` filling bytes[start, end) as microseconds (as nginx.ts's secondsAt), or -1. */
function microsAt(bytes: Buffer, start: number, end: number): number {
  let whole = 0;
  let i = start;
  for (; i < end && isDigit(bytes[i]!); i++) whole = whole * 10 + bytes[i]! - 48;
  if (i === start) return -1;
  if (i === end) return whole * 1_000_000;
  if (bytes[i] !== DOT || i + 1 === end || end - i - 1 > 9) return -1;
  let fraction = 0;
  let scale = 1_000_000_000;
  for (i += 1; i < end; i++) {
    if (!isDigit(bytes[i]!)) return -1;
    fraction = fraction * 10 + bytes[i]! - 48;
    scale /= 10;
  }
  return whole * 1_000_000 + (fraction * scale) / 1000;
}

/**
 * Index of the first `stop` byte in bytes[at, end); -1 when there is none, or when a quote or a backslash
 * comes first (an escape takes the text parser: the regex's `\\.` has cases of its own).
 */
function fieldEnd(bytes: Buffer, at: number, end: number, stop: number): number {
  for (let i = at; i < end; i++) {
    const byte = bytes[i];
    if (byte === stop) return i;
    if (byte === QUOTE || byte === BACKSLASH) return -1;
  }
  return -1;
}

/**
 * The entry of the usual line in bytes[start, end) (no newline or trailing CR), or undefined when the line is
 * anything else (parse its text with parseNginxLine). Each check reads on from the last, and the byte at `end`
 * (a newline, a CR or none) matches none of them, so nothing past the line is taken for part of it.
 */
export function parseNginxBytes(bytes: Buffer, start: number, end: number): BytesEntry | undefined {
  let open = start;
  while (open < end && bytes[open] !== OPEN) open++;
  if (open + TIME_BYTES + 4 > end) return undefined;
  const timeMs = timeAt(bytes, open + 1);
  let at = open + 1 + TIME_BYTES;
  if (timeMs === undefined || bytes[at] !== CLOSE || bytes[at + 1] !== SPACE || bytes[at + 2] !== QUOTE)
    return undefined;
  at += 3;
  const methodEnd = fieldEnd(bytes, at, end, SPACE);
  if (methodEnd <= at) return undefined;
  const method = methodAt(bytes, at, methodEnd);
  const pathStart = methodEnd + 1;
  const pathEnd = fieldEnd(bytes, pathStart, end, SPACE);
  if (method === undefined || pathEnd <= pathStart) return undefined;
  // ` HTTP/[\d.]+"`
  at = pathEnd + 1;
  if (at + HTTP.length > end || !sameBytes(bytes, at, HTTP)) return undefined;
  at += HTTP.length;
  const versionStart = at;
  while (at < end && (isDigit(bytes[at]!) || bytes[at] === DOT)) at++;
  if (at === versionStart || bytes[at] !== QUOTE || bytes[at + 1] !== SPACE) return undefined;
  // `(\d{3}) (?:\d+|-) `
  at += 2;
  const a = bytes[at]! - 48;
  const b = bytes[at + 1]! - 48;
  const c = bytes[at + 2]! - 48;
  if (!(a >= 0 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9) || bytes[at + 3] !== SPACE)
    return undefined;
  at += 4;
  const sizeStart = at;
  if (bytes[at] === DASH) at++;
  else while (at < end && isDigit(bytes[at]!)) at++;
  if (at === sizeStart || bytes[at] !== SPACE || bytes[at + 1] !== QUOTE) return undefined;
  // `"referer" "user agent" seconds`
  at = fieldEnd(bytes, at + 2, end, QUOTE);
  if (at < 0 || bytes[at + 1] !== SPACE || bytes[at + 2] !== QUOTE) return undefined;
  const agentStart = at + 3;
  at = fieldEnd(bytes, agentStart, end, QUOTE);
  if (at < 0 || bytes[at + 1] !== SPACE) return undefined;
  const durationUs = microsAt(bytes, at + 2, end);
  if (durationUs < 0) return undefined;
  return {
    timeMs,
    method,
    pathStart,
    pathEnd,
    status: a * 100 + b * 10 + c,
    durationUs,
    userAgent: agentAt(bytes, agentStart, at),
  };
}
