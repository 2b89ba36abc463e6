/** What a log line says about one request, before service and route are decided. */
export interface AccessLogEntry {
  timeMs: number;
  method: string;
  /** Request path as logged, query string included. */
  path: string;
  /** The status the load balancer sent the client (edge status). */
  status: number;
  /** Microseconds, when the format logs a duration: the whole request as the load balancer saw it. */
  durationUs?: number;
  /** The status the target (upstream, backend) answered, when the format logs it separately. */
  targetStatus?: number;
  /** Microseconds spent waiting for the target(s), when the format logs it separately. */
  targetDurationUs?: number;
  /** Host header or upstream name, when the format logs one (for the source's service mapping). */
  host?: string;
  /** The client's user agent, when the format logs it (exclusion rules read it). */
  userAgent?: string;
}

/** A line that is not a request the SLI should count: said why, and whether it is an error or expected. */
export class LineRejected extends Error {
  constructor(
    reason: string,
    /** Skipped lines are expected (e.g. a TCP-mode line); rejected ones are malformed. */
    readonly skipped = false,
  ) {
    super(reason);
    this.name = 'LineRejected';
  }
}

/** Parses one line or throws LineRejected. */
export type LineParser = (line: string) => AccessLogEntry;

/**
 * An entry read from a line's bytes: its path stays in them, at [pathStart, pathEnd), until it is routed, and
 * its user agent at [agentStart, agentEnd) until a counting rule reads it (agentStart -1: none logged).
 */
export interface BytesEntry extends Omit<AccessLogEntry, 'path' | 'userAgent'> {
  pathStart: number;
  pathEnd: number;
  agentStart: number;
  agentEnd: number;
}

/**
 * Reads the usual line of a format straight from bytes[start, end) (UTF-8, no newline), without making it a
 * string; undefined for any other line, whose text then goes to the format's LineParser. Never throws. The
 * entry is the parser's own, valid until its next call (no object per line).
 */
export type BytesParser = (bytes: Buffer, start: number, end: number) => BytesEntry | undefined;

/**
 * The status recorded when the load balancer sent no response because the client went away (Envoy's
 * response code 0, HAProxy's -1, Traefik's `-`, GCP's 0). nginx logs 499 for the same event, so every
 * format agrees: a valid request, not a server failure.
 */
export const CLIENT_CLOSED = 499;

const DECIMAL = /^\d+(?:\.\d{1,9})?$/;

/**
 * Seconds with a decimal point ("0.123", "0.248406123") to microseconds, exactly: digits past the sixth
 * become a fraction of a microsecond rather than going through a binary float of the seconds.
 */
export function secondsToMicros(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const dot = text.indexOf('.');
  if (dot < 0) return Number(text) * 1_000_000;
  const fraction = text.slice(dot + 1).padEnd(9, '0');
  return Number(text.slice(0, dot)) * 1_000_000 + Number(fraction) / 1000;
}

/** Whole milliseconds ("226") to microseconds. */
export function millisToMicros(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) * 1000 : undefined;
}

/**
 * nginx lists one value per upstream tried (`$upstream_status`, `$upstream_response_time`): "0.100, 0.004",
 * with " : " between the lists of internal redirects and "-" for an upstream that gave no value.
 */
export function upstreamValues(text: string): string[] {
  // A scan, not a split on /\s*[,:]\s*/: that regex backtracks quadratically over a run of spaces.
  const values: string[] = [];
  let start = 0;
  for (let at = 0; at <= text.length; at++) {
    if (at < text.length && text[at] !== ',' && text[at] !== ':') continue;
    const value = text.slice(start, at).trim();
    if (value !== '' && value !== '-') values.push(value);
    start = at + 1;
  }
  return values;
}

/** The status of the last upstream tried: the one whose answer was relayed. */
export function lastUpstreamStatus(text: string): number | undefined {
  const last = upstreamValues(text).at(-1);
  return last !== undefined && /^\d{3}$/.test(last) ? Number(last) : undefined;
}

/** Time spent in every upstream tried, summed: the client waited through each attempt. */
export function upstreamMicros(text: string): number | undefined {
  const values = upstreamValues(text);
  if (values.length === 0) return undefined;
  let total = 0;
  for (const value of values) {
    const micros = secondsToMicros(value);
    if (micros === undefined) return undefined;
    total += micros;
  }
  return total;
}

const REQUEST_LINE = /^([A-Z]+) (\S+)(?: [A-Z]+\/[\d.]+)?$/;

/** `GET /path HTTP/1.1` → method and path, or a LineRejected saying why not. */
export function parseRequestLine(text: string): { method: string; path: string } {
  const match = REQUEST_LINE.exec(text);
  if (!match) throw new LineRejected(`bad request line "${text.slice(0, 80)}"`);
  return { method: match[1]!, path: match[2]! };
}

/** An absolute URL as logged by cloud load balancers → host and path (with query). */
export function splitUrl(url: string): { host: string; path: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LineRejected(`bad request URL "${url.slice(0, 80)}"`);
  }
  return { host: parsed.hostname, path: `${parsed.pathname}${parsed.search}` };
}

/** RFC 3339 time (any fraction digits) → epoch ms, or a LineRejected naming the field. */
export function parseIsoTime(text: unknown, field: string): number {
  const ms = typeof text === 'string' ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new LineRejected(`bad ${field} "${String(text).slice(0, 40)}"`);
  return ms;
}

/** A JSON object per line, or a LineRejected. */
export function parseJsonObject(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new LineRejected('not a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LineRejected('not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** An HTTP status from a JSON field (number or numeric string). */
export function statusField(value: unknown, field: string): number {
  const status = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 999) {
    throw new LineRejected(`missing or bad ${field}`);
  }
  return status === 0 ? CLIENT_CLOSED : status;
}

/**
 * `count` fields, each ended by one space, starting at `from`: the fields and where the text after them
 * starts, or undefined when a field is missing or empty. A scan, for formats whose fields have fixed places.
 */
export function leadingFields(
  line: string,
  from: number,
  count: number,
): { fields: string[]; rest: number } | undefined {
  const fields: string[] = [];
  let at = from;
  while (fields.length < count) {
    const end = line.indexOf(' ', at);
    if (end <= at) return undefined;
    fields.push(line.slice(at, end));
    at = end + 1;
  }
  return { fields, rest: at };
}

/** Space-separated fields, a `"quoted field"` being one field (quotes removed, escapes kept as logged). */
export function splitFields(line: string): string[] {
  const fields: string[] = [];
  let at = 0;
  while (at < line.length) {
    if (line.charCodeAt(at) === 32) {
      at += 1;
      continue;
    }
    if (line.charCodeAt(at) === 34) {
      let end = line.indexOf('"', at + 1);
      while (end > 0 && line.charCodeAt(end - 1) === 92) end = line.indexOf('"', end + 1);
      if (end < 0) throw new LineRejected('unterminated quoted field');
      fields.push(line.slice(at + 1, end));
      at = end + 1;
    } else {
      let end = line.indexOf(' ', at);
      if (end < 0) end = line.length;
      fields.push(line.slice(at, end));
      at = end;
    }
  }
  return fields;
}
