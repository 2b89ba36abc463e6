import { type AccessLogEntry, CLIENT_CLOSED, LineRejected, parseIsoTime, parseJsonObject } from './format.js';
import { combinedRestStart, parseCombined } from './nginx.js';

/**
 * Traefik access logs, either format (`accessLog.format`):
 * - `json`: DownstreamStatus (edge) and OriginStatus (target), Duration and OriginDuration in NANOseconds,
 *   RequestMethod, RequestPath, RequestHost, StartUTC (or StartLocal).
 * - `common`: CLF plus `"referer" "user agent" <request count> "<router>" "<service url>" <N>ms`; the
 *   trailing duration is whole milliseconds. Plain CLF lines (no extras) count for availability only.
 * A status of 0 or `-` (no response was written: the client went away) counts as CLIENT_CLOSED.
 */
function nanosToMicros(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new LineRejected(`bad ${field} (expected nanoseconds)`);
  }
  return value / 1000;
}

function statusOf(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new LineRejected(`bad ${field}`);
  return value === 0 ? CLIENT_CLOSED : value;
}

function parseTraefikJson(line: string): AccessLogEntry {
  const record = parseJsonObject(line);
  const status = statusOf(record.DownstreamStatus, 'DownstreamStatus');
  if (status === undefined) throw new LineRejected('missing DownstreamStatus');
  if (typeof record.RequestMethod !== 'string' || typeof record.RequestPath !== 'string') {
    throw new LineRejected('missing RequestMethod or RequestPath');
  }
  const entry: AccessLogEntry = {
    timeMs: parseIsoTime(record.StartUTC ?? record.StartLocal ?? record.time, 'StartUTC'),
    method: record.RequestMethod,
    path: record.RequestPath,
    status,
  };
  const durationUs = nanosToMicros(record.Duration, 'Duration');
  if (durationUs !== undefined) entry.durationUs = durationUs;
  const targetStatus = statusOf(record.OriginStatus, 'OriginStatus');
  if (targetStatus !== undefined) entry.targetStatus = targetStatus;
  const targetDurationUs = nanosToMicros(record.OriginDuration, 'OriginDuration');
  if (targetDurationUs !== undefined) entry.targetDurationUs = targetDurationUs;
  if (typeof record.RequestHost === 'string' && record.RequestHost !== '') entry.host = record.RequestHost;
  return entry;
}

const COMMON_TAIL = /^ \d+ "[^"]*" "[^"]*" (\d+)ms\s*$/;

function parseTraefikCommon(line: string): AccessLogEntry {
  const entry = parseCombined(line, 'Traefik common');
  const rest = line.slice(combinedRestStart);
  if (rest.trim() === '') return entry;
  const tail = COMMON_TAIL.exec(rest);
  if (!tail) throw new LineRejected('expected <count> "<router>" "<service url>" <N>ms after the user agent');
  entry.durationUs = Number(tail[1]) * 1000;
  return entry;
}

/** Either Traefik format, told apart by the first character. */
export function parseTraefikLine(line: string): AccessLogEntry {
  return line.trimStart().startsWith('{') ? parseTraefikJson(line) : parseTraefikCommon(line);
}
