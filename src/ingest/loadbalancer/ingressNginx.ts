import {
  type AccessLogEntry,
  LineRejected,
  lastUpstreamStatus,
  leadingFields,
  upstreamMicros,
} from './format.js';
import { combinedRestStart, parseCombined, secondsAt } from './nginx.js';

/**
 * ingress-nginx's default `upstreaminfo` log-format-upstream: combined, then
 *   $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name]
 *   $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id
 * The four upstream fields are lists when nginx tried several upstreams ("0.100, 0.004"). The upstream name
 * (`default-web-8080`) is the entry's host, for the source's `hosts:` mapping.
 */
interface UpstreamInfo {
  requestTime: string;
  upstreamName: string;
  /** The four upstream fields, as one text. */
  upstreams: string;
}

/** ` $request_length $request_time [name] [alternative] <upstream fields> $req_id`, scanned left to right. */
function upstreamInfo(rest: string): UpstreamInfo | undefined {
  const head = rest.startsWith(' ') ? leadingFields(rest, 1, 2) : undefined;
  if (!head || !/^\d+$/.test(head.fields[0]!) || rest[head.rest] !== '[') return undefined;
  const nameEnd = rest.indexOf('] [', head.rest);
  const alternativeEnd = nameEnd < 0 ? -1 : rest.indexOf('] ', nameEnd + 3);
  const lastSpace = rest.lastIndexOf(' ');
  if (alternativeEnd < 0 || lastSpace <= alternativeEnd + 1 || lastSpace === rest.length - 1)
    return undefined;
  return {
    requestTime: head.fields[1]!,
    upstreamName: rest.slice(head.rest + 1, nameEnd),
    upstreams: rest.slice(alternativeEnd + 2, lastSpace),
  };
}

/** Splits "a, b c d, e" into lists: a token ending in "," (or a lone ":") continues the current list. */
function upstreamLists(text: string): string[] {
  const lists: string[] = [];
  let current = '';
  let continues = false;
  for (const token of text.split(' ')) {
    if (token === '') continue;
    if (continues || token === ':') current = `${current} ${token}`;
    else {
      if (current !== '') lists.push(current.trim());
      current = token;
    }
    continues = token.endsWith(',') || token === ':';
  }
  if (current !== '') lists.push(current.trim());
  return lists;
}

export function parseIngressNginxLine(line: string): AccessLogEntry {
  const entry = parseCombined(line, 'ingress-nginx upstreaminfo');
  const tail = upstreamInfo(line.slice(combinedRestStart));
  if (!tail) {
    throw new LineRejected(
      'not an ingress-nginx upstreaminfo line (expected $request_length $request_time [upstream] [alternative] upstream fields $req_id after the user agent)',
    );
  }
  const { requestTime } = tail;
  const micros = secondsAt(requestTime, 0, requestTime.length);
  if (micros < 0) throw new LineRejected(`bad $request_time "${requestTime.slice(0, 40)}"`);
  entry.durationUs = micros;
  if (tail.upstreamName) entry.host = tail.upstreamName;
  const lists = upstreamLists(tail.upstreams);
  if (lists.length !== 4) {
    throw new LineRejected(
      `expected 4 upstream fields (addr, response length, response time, status), found ${lists.length}`,
    );
  }
  const targetStatus = lastUpstreamStatus(lists[3]!);
  const targetDurationUs = upstreamMicros(lists[2]!);
  if (targetStatus !== undefined) entry.targetStatus = targetStatus;
  if (targetDurationUs !== undefined) entry.targetDurationUs = targetDurationUs;
  return entry;
}
