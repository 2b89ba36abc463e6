import { type AccessLogEntry, LineRejected, secondsToMicros } from './format.js';

/**
 * nginx `combined` extended with `$request_time` (README gives the log_format line):
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
 *   "$http_user_agent" $request_time
 * Whatever precedes `[$time_local]` is ignored, so X-Forwarded-For chains in front do not matter. Lines
 * without `$request_time` still count for availability; they have no duration.
 */
const COMBINED =
  /\[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (?:\d+|-)(?: "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*")?(.*)$/;
const REQUEST = /^([A-Z]+) (\S+)(?: HTTP\/[\d.]+)?$/;
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
const TIME_LOCAL = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

let lastTimeText = '';
let lastTimeMs = 0;

/** `07/Dec/2016:11:05:07 +0100` → epoch ms. Consecutive lines share a second, so the last one is remembered. */
export function parseTimeLocal(text: string): number | undefined {
  if (text === lastTimeText) return lastTimeMs;
  const match = TIME_LOCAL.exec(text);
  const month = match ? MONTHS[match[2]!] : undefined;
  if (!match || month === undefined) return undefined;
  const offsetMinutes = (match[7] === '-' ? -1 : 1) * (Number(match[8]) * 60 + Number(match[9]));
  const ms =
    Date.UTC(
      Number(match[3]),
      month,
      Number(match[1]),
      Number(match[4]),
      Number(match[5]),
      Number(match[6]),
    ) -
    offsetMinutes * 60_000;
  lastTimeText = text;
  lastTimeMs = ms;
  return ms;
}

export function parseNginxLine(line: string): AccessLogEntry {
  const match = COMBINED.exec(line);
  if (!match) throw new LineRejected('not an nginx combined line ([time] "request" status bytes ...)');
  const timeMs = parseTimeLocal(match[1]!);
  if (timeMs === undefined) throw new LineRejected(`bad $time_local "${match[1]}"`);
  if (match[2] === '') throw new LineRejected('empty request line (the client sent no request)', true);
  const request = REQUEST.exec(match[2]!);
  if (!request) throw new LineRejected(`bad request line "${match[2]!.slice(0, 80)}"`);
  const entry: AccessLogEntry = { timeMs, method: request[1]!, path: request[2]!, status: Number(match[3]) };
  const rest = match[4]!.trim();
  if (rest !== '') {
    const requestTime = rest.split(' ', 1)[0]!;
    const durationUs = secondsToMicros(requestTime);
    if (durationUs !== undefined) entry.durationUs = durationUs;
    else if (requestTime !== '"-"' && requestTime !== '-') {
      throw new LineRejected(`bad $request_time "${requestTime.slice(0, 40)}" after the user agent`);
    }
  }
  return entry;
}
