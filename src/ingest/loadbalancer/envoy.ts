import {
  type AccessLogEntry,
  CLIENT_CLOSED,
  LineRejected,
  millisToMicros,
  parseIsoTime,
  splitFields,
} from './format.js';

/**
 * Envoy's default access log format:
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 *   %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 *   "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
 * DURATION (ms) is the latency; x-envoy-upstream-service-time (ms) the target's. Response code 0 means the
 * downstream disconnected before a response was sent: it counts as CLIENT_CLOSED. Envoy logs one status,
 * so edge and target status are the same. `:authority` is the host. Fields added after these are ignored.
 */
export function parseEnvoyLine(line: string): AccessLogEntry {
  if (!line.startsWith('[')) throw new LineRejected('not an Envoy default-format line ([start time] ...)');
  const close = line.indexOf('] ');
  const timeMs = parseIsoTime(line.slice(1, close), 'START_TIME');
  const fields = splitFields(line.slice(close + 2));
  if (fields.length < 6) throw new LineRejected('not an Envoy default-format line (too few fields)');
  const [request, code, , , , duration, upstreamTime, , , , authority] = fields;
  const [method, path] = request!.split(' ');
  if (!method || !path || !/^[A-Z]+$/.test(method)) {
    throw new LineRejected(`bad request "${request!.slice(0, 80)}"`);
  }
  if (!/^\d+$/.test(code!)) throw new LineRejected(`bad RESPONSE_CODE "${code}"`);
  const status = Number(code) === 0 ? CLIENT_CLOSED : Number(code);
  const entry: AccessLogEntry = { timeMs, method, path, status };
  const durationUs = millisToMicros(duration!);
  if (durationUs !== undefined) entry.durationUs = durationUs;
  const targetDurationUs = upstreamTime === undefined ? undefined : millisToMicros(upstreamTime);
  if (targetDurationUs !== undefined) entry.targetDurationUs = targetDurationUs;
  if (authority && authority !== '-') entry.host = authority;
  return entry;
}
