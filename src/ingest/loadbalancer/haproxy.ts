import {
  type AccessLogEntry,
  CLIENT_CLOSED,
  LineRejected,
  leadingFields,
  parseRequestLine,
} from './format.js';

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
const ACCEPT_DATE = /\[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?\] /y;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** Whether line[start, end) is `client:port`: no space or `[`, a colon, then digits to the end. */
function isClientAddress(line: string, start: number, end: number): boolean {
  let at = end - 1;
  while (at > start && line.charCodeAt(at) >= 48 && line.charCodeAt(at) <= 57) at--;
  if (at === end - 1 || at <= start || line[at] !== ':') return false;
  for (let i = start; i < at; i++) if (line[i] === '[') return false;
  return true;
}

/**
 * The accept date after the first `client:port [`, whatever syslog prefix comes before: found by scanning
 * for ` [` and checking the token before it, so a long line costs one pass (an unanchored regex took
 * seconds on a 512 KB line).
 */
function acceptDate(line: string): RegExpExecArray | undefined {
  for (let bracket = line.indexOf(' [', 1); bracket > 0; bracket = line.indexOf(' [', bracket + 2)) {
    let start = bracket;
    while (start > 0 && !isSpace(line.charCodeAt(start - 1))) start--;
    if (start === bracket || !isClientAddress(line, start, bracket)) continue;
    ACCEPT_DATE.lastIndex = bracket + 1;
    const date = ACCEPT_DATE.exec(line);
    if (date) return date;
  }
  return undefined;
}

export function parseHaproxyLine(line: string): AccessLogEntry {
  const date = acceptDate(line);
  const head = date && leadingFields(line, ACCEPT_DATE.lastIndex, 5);
  if (!date || !head)
    throw new LineRejected('not an HAProxy log line (client:port [date] frontend backend/server ...)');
  const [, , timerText, statusText] = head.fields as [string, string, string, string, string];
  const month = MONTHS.indexOf(date[2]!);
  if (month < 0) throw new LineRejected(`bad accept date month "${date[2]}"`);
  const timers = timerText.split('/');
  if (timers.length === 3) throw new LineRejected('TCP-mode line (option tcplog): not an HTTP request', true);
  if (timers.length !== 5) throw new LineRejected(`bad timers "${timerText}" (expected TR/Tw/Tc/Tr/Ta)`);
  const rest = line.slice(head.rest);
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
  if (!/^(?:\d{3}|-1)$/.test(statusText)) throw new LineRejected(`bad status "${statusText}"`);
  const timeMs = Date.UTC(
    Number(date[3]),
    month,
    Number(date[1]),
    Number(date[4]),
    Number(date[5]),
    Number(date[6]),
    Number(date[7] ?? 0),
  );
  const entry: AccessLogEntry = {
    timeMs,
    method,
    path,
    status: statusText === '-1' ? CLIENT_CLOSED : Number(statusText),
  };
  const total = timers[4]!;
  if (/^\d+$/.test(total)) entry.durationUs = Number(total) * 1000;
  // The captured headers follow the five counter fields: `{host|...}`.
  const open = leadingFields(rest, 0, 5)?.rest ?? -1;
  const close = open >= 0 && rest[open] === '{' ? rest.indexOf('}', open) : -1;
  const host = close < 0 ? undefined : rest.slice(open + 1, close).split('|')[0];
  if (host) entry.host = host;
  return entry;
}
