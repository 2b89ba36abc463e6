import {
  type AccessLogEntry,
  CLIENT_CLOSED,
  LineRejected,
  lastUpstreamStatus,
  upstreamMicros,
} from './format.js';

/**
 * nginx `combined` extended with `$request_time` (README gives the log_format line):
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
 *   "$http_user_agent" $request_time ["$upstream_status" "$upstream_response_time"]
 * Whatever precedes `[$time_local]` is ignored, so X-Forwarded-For chains in front do not matter. Lines
 * without `$request_time` still count for availability; they have no duration.
 *
 * This is the hot path of `sloguard import` and of tailing, so it scans with indexOf and char codes instead
 * of a backtracking regex, and allocates only the entry and its path.
 */
const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};
let lastTimeText = '';
let lastTimeMs = 0;
let lastDayText = '';
let lastDayMs = 0;

/** Two ASCII digits at `at` as a number, or NaN. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const ones = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : Number.NaN;
}

/**
 * `07/Dec/2016:11:05:07 +0100` → epoch ms. Read by position (the layout is fixed), with the last line's
 * text and the last day remembered: consecutive lines share a second, and nearly always a day.
 */
export function parseTimeLocal(text: string): number | undefined {
  if (text === lastTimeText) return lastTimeMs;
  if (text.length !== 26 || text[2] !== '/' || text[6] !== '/' || text[11] !== ':' || text[20] !== ' ') {
    return undefined;
  }
  const dayText = text.slice(0, 11);
  if (dayText !== lastDayText) {
    const month = MONTHS[text.slice(3, 6)];
    const year = twoDigits(text, 7) * 100 + twoDigits(text, 9);
    const day = twoDigits(text, 0);
    if (month === undefined || !(day >= 1 && day <= 31) || Number.isNaN(year)) return undefined;
    lastDayMs = Date.UTC(year, month, day);
    lastDayText = dayText;
  }
  const hours = twoDigits(text, 12);
  const minutes = twoDigits(text, 15);
  const seconds = twoDigits(text, 18);
  const sign = text[21] === '-' ? -1 : text[21] === '+' ? 1 : 0;
  const offsetMinutes = sign * (twoDigits(text, 22) * 60 + twoDigits(text, 24));
  const ms = lastDayMs + ((hours * 60 + minutes - offsetMinutes) * 60 + seconds) * 1000;
  if (
    text[14] !== ':' ||
    text[17] !== ':' ||
    sign === 0 ||
    hours > 23 ||
    minutes > 59 ||
    seconds > 60 ||
    Number.isNaN(ms)
  ) {
    return undefined;
  }
  lastTimeText = text;
  lastTimeMs = ms;
  return ms;
}

const QUOTE = 34;
const BACKSLASH = 92;
const SPACE = 32;
const DASH = 45;
const ZERO = 48;
const DOT = 46;

/** Index of the next `"` not escaped by an odd run of backslashes, or -1. */
export function closingQuote(line: string, from: number): number {
  let at = line.indexOf('"', from);
  while (at > 0) {
    let backslashes = 0;
    while (line.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return at;
    at = line.indexOf('"', at + 1);
  }
  return at;
}

const COMMON_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'];

/** The method at `start` (ending at `end`), as a shared constant for the usual ones: no allocation. */
function methodAt(line: string, start: number, end: number): string | undefined {
  for (const method of COMMON_METHODS) {
    if (end - start === method.length && line.startsWith(method, start)) return method;
  }
  for (let i = start; i < end; i++) {
    const code = line.charCodeAt(i);
    if (code < 65 || code > 90) return undefined;
  }
  return end > start ? line.slice(start, end) : undefined;
}

function badRequest(line: string, start: number, end: number): LineRejected {
  return new LineRejected(`bad request line "${line.slice(start, Math.min(end, start + 80))}"`);
}

/**
 * Decimal seconds in line[start, end) to microseconds, exactly (digits past the sixth become a fraction
 * of a microsecond); -1 when it is not a plain decimal.
 */
export function secondsAt(line: string, start: number, end: number): number {
  let whole = 0;
  let i = start;
  for (; i < end; i++) {
    const digit = line.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) break;
    whole = whole * 10 + digit;
  }
  if (i === start) return -1;
  if (i === end) return whole * 1_000_000;
  if (line.charCodeAt(i) !== DOT || end - i - 1 > 9 || i + 1 === end) return -1;
  let fraction = 0;
  let scale = 1_000_000_000;
  for (i += 1; i < end; i++) {
    const digit = line.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    fraction = fraction * 10 + digit;
    scale /= 10;
  }
  return whole * 1_000_000 + (fraction * scale) / 1000;
}

/** Where the text after `"$http_user_agent"` (or after the bytes, for plain CLF) starts in the last line parsed. */
export let combinedRestStart = 0;

/**
 * The part every combined-style format shares: `[$time_local] "$request" $status $bytes ["referer" "ua"]`.
 * A `-` status (no response written) becomes CLIENT_CLOSED. Sets combinedRestStart.
 */
export function parseCombined(line: string, formatName = 'nginx combined'): AccessLogEntry {
  const open = line.indexOf('[');
  const close = open < 0 ? -1 : line.indexOf(']', open);
  if (close < 0 || line.charCodeAt(close + 1) !== SPACE || line.charCodeAt(close + 2) !== QUOTE) {
    throw new LineRejected(`not an ${formatName} line ([time] "request" status bytes ...)`);
  }
  const timeMs =
    line.startsWith(lastTimeText, open + 1) && close - open - 1 === lastTimeText.length
      ? lastTimeMs
      : parseTimeLocal(line.slice(open + 1, close));
  if (timeMs === undefined) throw new LineRejected(`bad $time_local "${line.slice(open + 1, close)}"`);
  const requestStart = close + 3;
  const requestEnd = closingQuote(line, requestStart);
  if (requestEnd < 0) throw new LineRejected(`not an ${formatName} line (unterminated "request")`);
  if (requestEnd === requestStart) {
    throw new LineRejected('empty request line (the client sent no request)', true);
  }
  const methodEnd = line.indexOf(' ', requestStart);
  if (methodEnd < 0 || methodEnd >= requestEnd) throw badRequest(line, requestStart, requestEnd);
  const method = methodAt(line, requestStart, methodEnd);
  if (method === undefined) throw badRequest(line, requestStart, requestEnd);
  let pathEnd = line.indexOf(' ', methodEnd + 1);
  if (pathEnd < 0 || pathEnd > requestEnd) pathEnd = requestEnd;
  else if (!line.startsWith('HTTP/', pathEnd + 1) || line.indexOf(' ', pathEnd + 1) < requestEnd) {
    throw badRequest(line, requestStart, requestEnd);
  }
  if (pathEnd === methodEnd + 1) throw badRequest(line, requestStart, requestEnd);
  const path = line.slice(methodEnd + 1, pathEnd);
  const statusStart = requestEnd + 2;
  let status: number;
  let statusEnd = statusStart + 3;
  const a = line.charCodeAt(statusStart) - ZERO;
  const b = line.charCodeAt(statusStart + 1) - ZERO;
  const c = line.charCodeAt(statusStart + 2) - ZERO;
  if (a >= 0 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9) status = a * 100 + b * 10 + c;
  else if (line.charCodeAt(statusStart) === DASH) {
    status = CLIENT_CLOSED;
    statusEnd = statusStart + 1;
  } else throw new LineRejected(`not an ${formatName} line (no status after the request)`);
  if (line.charCodeAt(requestEnd + 1) !== SPACE || line.charCodeAt(statusEnd) !== SPACE) {
    throw new LineRejected(`not an ${formatName} line (no status after the request)`);
  }
  let at = line.indexOf(' ', statusEnd + 1);
  if (at < 0) at = line.length;
  // Referer and user agent: quoted, or a bare "-" (Traefik).
  let userAgent: string | undefined;
  for (let field = 0; field < 2 && at < line.length; field++) {
    const start = at + 1;
    if (line.charCodeAt(start) === QUOTE) {
      const end = closingQuote(line, start + 1);
      if (end < 0) break;
      if (field === 1) userAgent = line.slice(start + 1, end);
      at = end + 1;
    } else if (line.charCodeAt(start) === DASH && line.charCodeAt(start + 1) === SPACE) at = start + 1;
    else break;
  }
  combinedRestStart = at;
  return { timeMs, method, path, status, ...(userAgent !== undefined && { userAgent }) };
}

/** Start and end of the next space-separated token at or after `from`, in module state (no allocation). */
let tokenStart = 0;
let tokenEnd = 0;
function nextToken(line: string, from: number): boolean {
  let i = from;
  while (i < line.length && line.charCodeAt(i) === SPACE) i++;
  if (i >= line.length) return false;
  tokenStart = i;
  const end = line.indexOf(' ', i);
  tokenEnd = end < 0 ? line.length : end;
  return true;
}

/**
 * The last two quoted fields of `rest` (`"$upstream_status" "$upstream_response_time"`), trailing
 * whitespace allowed: found from the end with lastIndexOf, as an unanchored regex would retry at every quote.
 */
function upstreamFields(rest: string): [string, string] | undefined {
  const text = rest.trimEnd();
  const fourth = text.length - 1;
  if (text.charCodeAt(fourth) !== QUOTE) return undefined;
  const third = text.lastIndexOf('"', fourth - 1);
  const second = third - 2;
  if (third < 2 || text.charCodeAt(third - 1) !== SPACE || text.charCodeAt(second) !== QUOTE)
    return undefined;
  const first = text.lastIndexOf('"', second - 1);
  if (first < 1 || text.charCodeAt(first - 1) !== SPACE) return undefined;
  return [text.slice(first + 1, second), text.slice(third + 1, fourth)];
}

/**
 * The documented format with nothing unusual in it (no escapes in the path, a plain `$request_time` last),
 * which is nearly every line: one linear regex, anchored at the first `[` (as the scanner reads it), whose
 * quoted fields are unrolled loops with one way to match each character. Anything else takes the scanner.
 */
const USUAL =
  /^[^[]*\[(\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "([A-Z]+) ([^ "\\]+) HTTP\/[\d.]+" (\d{3}) (?:\d+|-) "[^"\\]*(?:\\.[^"\\]*)*" "([^"\\]*(?:\\.[^"\\]*)*)" (\d+(?:\.\d{1,9})?)$/;

export function parseNginxLine(line: string): AccessLogEntry {
  const usual = USUAL.exec(line);
  if (usual) {
    const timeMs = parseTimeLocal(usual[1]!);
    const seconds = usual[6]!;
    if (timeMs !== undefined) {
      return {
        timeMs,
        method: usual[2]!,
        path: usual[3]!,
        status: Number(usual[4]),
        durationUs: secondsAt(seconds, 0, seconds.length),
        userAgent: usual[5]!,
      };
    }
  }
  const entry = parseCombined(line);
  if (!nextToken(line, combinedRestStart)) return entry;
  const micros = secondsAt(line, tokenStart, tokenEnd);
  if (micros >= 0) entry.durationUs = micros;
  else if (!(tokenEnd - tokenStart === 3 && line.startsWith('"-"', tokenStart))) {
    if (!(tokenEnd - tokenStart === 1 && line.charCodeAt(tokenStart) === DASH)) {
      throw new LineRejected(
        `bad $request_time "${line.slice(tokenStart, Math.min(tokenEnd, tokenStart + 40))}" after the user agent`,
      );
    }
  }
  if (tokenEnd < line.length) {
    const upstream = upstreamFields(line.slice(tokenEnd));
    if (upstream) {
      const targetStatus = lastUpstreamStatus(upstream[0]);
      const targetDurationUs = upstreamMicros(upstream[1]);
      if (targetStatus !== undefined) entry.targetStatus = targetStatus;
      if (targetDurationUs !== undefined) entry.targetDurationUs = targetDurationUs;
    }
  }
  return entry;
}
