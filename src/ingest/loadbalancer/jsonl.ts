import {
  type AccessLogEntry,
  LineRejected,
  parseIsoTime,
  parseJsonObject,
  secondsToMicros,
  statusField,
} from './format.js';

/**
 * sloguard's own JSON-lines shape, for shippers and scripts (README documents it):
 *   {"time":"2026-11-23T10:15:30.123Z","method":"GET","path":"/profile/42","status":200,
 *    "duration_ms":12.5,"host":"profile.example.com","target_status":200}
 * `time` is RFC 3339 or epoch milliseconds; the duration is `duration_us`, `duration_ms` or `duration_s`
 * (decimal numbers, converted from their written digits so 1.005 ms is exactly 1005 µs). Everything but
 * time, method, path and status is optional.
 */
const DURATIONS: Array<[field: string, microsPerUnit: number]> = [
  ['duration_us', 1],
  ['duration_ms', 1000],
  ['duration_s', 1_000_000],
];

function durationOf(record: Record<string, unknown>): number | undefined {
  for (const [field, microsPerUnit] of DURATIONS) {
    const value = record[field];
    if (value === undefined || value === null) continue;
    const asSeconds = secondsToMicros(String(value));
    if (typeof value !== 'number' || asSeconds === undefined) {
      throw new LineRejected(`bad ${field} (expected a non-negative decimal number)`);
    }
    return (asSeconds * microsPerUnit) / 1_000_000;
  }
  return undefined;
}

export function parseJsonlLine(line: string): AccessLogEntry {
  const record = parseJsonObject(line);
  const timeMs =
    typeof record.time === 'number' && Number.isFinite(record.time)
      ? record.time
      : parseIsoTime(record.time, 'time');
  if (typeof record.method !== 'string' || !/^[A-Za-z]+$/.test(record.method)) {
    throw new LineRejected('missing or bad method');
  }
  if (typeof record.path !== 'string' || !record.path.startsWith('/')) {
    throw new LineRejected('missing or bad path (must start with /)');
  }
  const entry: AccessLogEntry = {
    timeMs,
    method: record.method.toUpperCase(),
    path: record.path,
    status: statusField(record.status, 'status'),
  };
  const durationUs = durationOf(record);
  if (durationUs !== undefined) entry.durationUs = durationUs;
  if (record.target_status !== undefined)
    entry.targetStatus = statusField(record.target_status, 'target_status');
  if (typeof record.host === 'string' && record.host !== '') entry.host = record.host;
  return entry;
}
