import { type AccessLogEntry, CLIENT_CLOSED, LineRejected, parseRequestLine } from './format.js';

/**
 * HAProxy `option httplog` (the default HTTP log format):
 *   [syslog prefix] %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc
 *   %sq/%bq [{captured request headers}] [{captured response headers}] "%r"
 * Latency is Ta, the total active time in milliseconds. `-1` (aborted) or a `+` prefix (`option logasap`:
 * logged before the end, so the total is not known) leaves the request without a duration. Status -1 (no
 * response sent: the client went away) counts as CLIENT_CLOSED. A `""` or `<BADREQ>` request (nothing valid was sent)
 * and TCP-mode lines (`option tcplog`, three timers and no request) are skipped. The accept date carries no
 * zone: it is read as UTC (run HAProxy with TZ=UTC). The first captured request header, when present, is
 * the host for the source's `hosts:` mapping (capture Host first).
 */
const HEAD =
  /(?:^|\s)[^\s[]+:\d+ \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?\] (\S+) (\S+) (\S+) (\S+) (\S+) (.*)$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function parseHaproxyLine(line: string): AccessLogEntry {
  const head = HEAD.exec(line);
  if (!head)
    throw new LineRejected('not an HAProxy log line (client:port [date] frontend backend/server ...)');
  const month = MONTHS.indexOf(head[2]!);
  if (month < 0) throw new LineRejected(`bad accept date month "${head[2]}"`);
  const timers = head[10]!.split('/');
  if (timers.length === 3) throw new LineRejected('TCP-mode line (option tcplog): not an HTTP request', true);
  if (timers.length !== 5) throw new LineRejected(`bad timers "${head[10]}" (expected TR/Tw/Tc/Tr/Ta)`);
  const rest = head[13]!;
  const firstQuote = rest.indexOf('"');
  const lastQuote = rest.lastIndexOf('"');
  if (firstQuote < 0 || lastQuote === firstQuote) throw new LineRejected('no quoted request at the end');
  const request = rest.slice(firstQuote + 1, lastQuote);
  if (request === '') throw new LineRejected('empty request (the client sent no request)', true);
  if (request === '<BADREQ>') {
    throw new LineRejected(
      '<BADREQ>: no valid request (the client closed or sent garbage; HAProxy answered itself)',
      true,
    );
  }
  const { method, path } = parseRequestLine(request);
  const statusText = head[11]!;
  if (!/^(?:\d{3}|-1)$/.test(statusText)) throw new LineRejected(`bad status "${statusText}"`);
  const timeMs = Date.UTC(
    Number(head[3]),
    month,
    Number(head[1]),
    Number(head[4]),
    Number(head[5]),
    Number(head[6]),
    Number(head[7] ?? 0),
  );
  const entry: AccessLogEntry = {
    timeMs,
    method,
    path,
    status: statusText === '-1' ? CLIENT_CLOSED : Number(statusText),
  };
  const total = timers[4]!;
  if (/^\d+$/.test(total)) entry.durationUs = Number(total) * 1000;
  const capture = /^\S+ \S+ \S+ \S+ \S+ \{([^}]*)\}/.exec(rest);
  const host = capture?.[1]?.split('|')[0];
  if (host) entry.host = host;
  return entry;
}
