import {
  type AccessLogEntry,
  LineRejected,
  parseIsoTime,
  secondsToMicros,
  splitFields,
  splitUrl,
} from './format.js';

/**
 * AWS Application Load Balancer access logs (one entry per line, as in the S3 objects):
 *   type time elb client:port target:port request_processing_time target_processing_time
 *   response_processing_time elb_status_code target_status_code received_bytes sent_bytes "request"
 *   "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" ... (more fields)
 * AWS appends fields over time; everything after the request is ignored, so new fields are tolerated.
 * Duration = the three processing times summed (seconds); a `-1` timer means the load balancer could not
 * dispatch the request or the connection closed early, so that request has no duration. The edge status
 * is elb_status_code; the target status is target_status_code (`-` when no target answered).
 */
const TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);

export function parseAlbLine(line: string): AccessLogEntry {
  const fields = splitFields(line);
  if (fields.length < 13 || !TYPES.has(fields[0]!)) {
    throw new LineRejected('not an ALB access log entry (type time elb client target timers statuses ...)');
  }
  const timeMs = parseIsoTime(fields[1], 'time');
  const request = fields[12]!;
  const [method, url] = request.split(' ');
  if (!method || !url || method === '-' || !/^[A-Z]+$/.test(method)) {
    throw new LineRejected(`bad request "${request.slice(0, 80)}" (the client sent no valid request)`);
  }
  const { host, path } = splitUrl(url);
  if (!/^\d{3}$/.test(fields[8]!)) throw new LineRejected(`bad elb_status_code "${fields[8]}"`);
  const entry: AccessLogEntry = { timeMs, method, path, status: Number(fields[8]), host };
  if (/^\d{3}$/.test(fields[9]!)) entry.targetStatus = Number(fields[9]);
  const timers = [fields[5]!, fields[6]!, fields[7]!].map(secondsToMicros);
  if (timers.every((micros) => micros !== undefined)) {
    entry.durationUs = timers.reduce((sum, micros) => sum + micros!, 0);
    entry.targetDurationUs = timers[1]!;
  } else if (
    ![fields[5], fields[6], fields[7]].every((t) => t === '-1' || secondsToMicros(t!) !== undefined)
  ) {
    throw new LineRejected(`bad processing times "${fields.slice(5, 8).join(' ')}"`);
  }
  return entry;
}
