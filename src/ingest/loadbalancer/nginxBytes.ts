import type { BytesEntry } from './format.js';
import { parseTimeLocal } from './nginx.js';

/**
 * The usual nginx line (nginx.ts's USUAL: the documented format with no escape in it and a plain
 * `$request_time` last) read straight from the file's bytes, for `sloguard import`: no string of the line, no
 * regex match and its captures; the path and the user agent are left in the bytes (pathRoutes.ts routes most
 * paths without decoding them; the agent is decoded only for a counting rule). Any other line answers undefined and goes to parseNginxLine as text, which says what is wrong with it, so
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
  return sameRange(bytes, at, expected, 0, expected.length);
}

/** Whether bytes[at + from, at + to) are expected[from, to). */
function sameRange(bytes: Buffer, at: number, expected: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** Offsets in a time field of its seconds (`ss` of `dd/Mmm/yyyy:hh:mm:ss ±hhmm`). */
const SECONDS_AT = 18;
const ZONE_AT = 20;

/**
 * The last time field parsed and its epoch ms less its seconds: consecutive lines nearly always share their
 * minute (and zone), so only their seconds are read.
 */
const lastTime = Buffer.alloc(TIME_BYTES);
let lastMinuteMs: number | undefined;

function timeAt(bytes: Buffer, at: number): number | undefined {
  if (
    lastMinuteMs !== undefined &&
    sameRange(bytes, at, lastTime, 0, SECONDS_AT) &&
    sameRange(bytes, at, lastTime, ZONE_AT, TIME_BYTES)
  ) {
    // As parseTimeLocal reads them: two digits, at most 60 (a leap second).
    const tens = bytes[at + SECONDS_AT]! - 48;
    const ones = bytes[at + SECONDS_AT + 1]! - 48;
    const seconds = tens * 10 + ones;
    if (tens < 0 || tens > 9 || ones < 0 || ones > 9 || seconds > 60) return undefined;
    return lastMinuteMs + seconds * 1000;
  }
  if (!timeShaped(bytes, at)) return undefined;
  const ms = parseTimeLocal(bytes.toString('latin1', at, at + TIME_BYTES));
  if (ms !== undefined) {
    bytes.copy(lastTime, 0, at, at + TIME_BYTES);
    lastMinuteMs = ms - ((bytes[at + SECONDS_AT]! - 48) * 10 + bytes[at + SECONDS_AT + 1]! - 48) * 1000;
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

/** The entry parseNginxBytes answers, filled again by each call. */
const entry: BytesEntry = {
  timeMs: 0,
  method: '',
  pathStart: 0,
  pathEnd: 0,
  status: 0,
  durationUs: 0,
  agentStart: -1,
  agentEnd: -1,
};

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
  entry.timeMs = timeMs;
  entry.method = method;
  entry.pathStart = pathStart;
  entry.pathEnd = pathEnd;
  entry.status = a * 100 + b * 10 + c;
  entry.durationUs = durationUs;
  entry.agentStart = agentStart;
  entry.agentEnd = at;
  return entry;
}
