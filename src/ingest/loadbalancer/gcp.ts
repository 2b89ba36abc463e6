import {
  type AccessLogEntry,
  LineRejected,
  parseIsoTime,
  parseJsonObject,
  secondsToMicros,
  splitUrl,
  statusField,
} from './format.js';

/**
 * Google Cloud external HTTP(S) load balancer request logs: one Cloud Logging LogEntry (JSON) per line, as
 * `gcloud logging read --format=json` (one entry per line) or a Pub/Sub / GCS export writes them.
 * `httpRequest.latency` is a protobuf Duration ("0.248406s"); responses served from Cloud CDN carry no
 * latency, so they count for availability only. Only the edge status is logged (`httpRequest.status`;
 * 0 = the client disconnected before any response).
 */
export function parseGcpLine(line: string): AccessLogEntry {
  const record = parseJsonObject(line);
  const request = record.httpRequest as Record<string, unknown> | undefined;
  if (typeof request !== 'object' || request === null) {
    throw new LineRejected('LogEntry without httpRequest (not a load-balancer request log)', true);
  }
  const timeMs = parseIsoTime(record.timestamp, 'timestamp');
  if (typeof request.requestMethod !== 'string' || typeof request.requestUrl !== 'string') {
    throw new LineRejected('httpRequest without requestMethod and requestUrl');
  }
  const { host, path } = splitUrl(request.requestUrl);
  const entry: AccessLogEntry = {
    timeMs,
    method: request.requestMethod,
    path,
    status: statusField(request.status, 'httpRequest.status'),
    host,
  };
  if (request.latency !== undefined) {
    const latency = String(request.latency);
    const micros = latency.endsWith('s') ? secondsToMicros(latency.slice(0, -1)) : undefined;
    if (micros === undefined) throw new LineRejected(`bad httpRequest.latency "${latency.slice(0, 40)}"`);
    entry.durationUs = micros;
  }
  return entry;
}
