import {
  type AccessLogEntry,
  LineRejected,
  lastUpstreamStatus,
  parseIsoTime,
  parseJsonObject,
  parseRequestLine,
  secondsToMicros,
  statusField,
  upstreamMicros,
} from './format.js';

/**
 * nginx with `log_format ... escape=json` in the shape the README documents:
 *   {"time":"$time_iso8601","method":"$request_method","uri":"$request_uri","status":$status,
 *    "request_time":$request_time,"host":"$host","upstream_status":"$upstream_status",
 *    "upstream_response_time":"$upstream_response_time"}
 * `request` ("GET /a HTTP/1.1") is accepted in place of method + uri; `msec` (epoch seconds with ms) in
 * place of time. Numbers may be logged quoted or bare.
 */
function micros(value: unknown, field: string): number | undefined {
  if (value === undefined || value === '' || value === '-') return undefined;
  const result = secondsToMicros(String(value));
  if (result === undefined) throw new LineRejected(`bad ${field} "${String(value).slice(0, 40)}"`);
  return result;
}

export function parseNginxJsonLine(line: string): AccessLogEntry {
  const record = parseJsonObject(line);
  const msec = micros(record.msec, 'msec');
  const timeMs = msec !== undefined ? msec / 1000 : parseIsoTime(record.time, 'time');
  let method = record.method;
  let path = record.uri;
  if (typeof record.request === 'string' && (method === undefined || path === undefined)) {
    if (record.request === '')
      throw new LineRejected('empty request line (the client sent no request)', true);
    ({ method, path } = parseRequestLine(record.request));
  }
  if (typeof method !== 'string' || method === '') throw new LineRejected('missing method');
  if (typeof path !== 'string' || path === '') throw new LineRejected('missing uri');
  const entry: AccessLogEntry = { timeMs, method, path, status: statusField(record.status, 'status') };
  const durationUs = micros(record.request_time, 'request_time');
  if (durationUs !== undefined) entry.durationUs = durationUs;
  if (typeof record.host === 'string' && record.host !== '') entry.host = record.host;
  const targetStatus = lastUpstreamStatus(String(record.upstream_status ?? ''));
  if (targetStatus !== undefined) entry.targetStatus = targetStatus;
  const targetDurationUs = upstreamMicros(String(record.upstream_response_time ?? ''));
  if (targetDurationUs !== undefined) entry.targetDurationUs = targetDurationUs;
  return entry;
}
