/** What a log line says about one request, before service and route are decided. */
export interface AccessLogEntry {
  timeMs: number;
  method: string;
  /** Request path as logged, query string included. */
  path: string;
  status: number;
  /** Microseconds, when the format logs a duration. */
  durationUs?: number;
  /** Host header or upstream name, when the format logs one (for the source's service mapping). */
  host?: string;
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

/** Seconds with a decimal point ("0.123") to whole microseconds, exactly. */
export function secondsToMicros(text: string): number | undefined {
  if (!/^\d+(?:\.\d+)?$/.test(text)) return undefined;
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}
