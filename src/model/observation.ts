/** The kinds of data a series can come from; SLO indicators select one. */
/** `otlp-metrics`: HTTP server duration histograms pushed over OTLP (ingest/otlp/metrics.ts). */
export type SourceKind = 'loadbalancer' | 'traces' | 'otlp-metrics';

/** One request seen by a source. Counted into buckets at once, never stored one by one. */
export interface Observation {
  timeMs: number;
  kind: SourceKind;
  source: string;
  service: string;
  /** Route template (`/profile/:id`) or span name. */
  operation: string;
  method: string;
  /** HTTP status when the source knows it. */
  status?: number;
  /** Failure: status ≥ 500, or an error flag where there is no status. */
  error: boolean;
  /** Duration in microseconds, when the source measured it. */
  durationUs?: number;
  /** The client's user agent, when the source records it (exclusion rules read it; never stored). */
  userAgent?: string;
}

/** Availability as the seed defines it: 5xx are failures; 2xx, 3xx and 4xx are the application's answers. */
export function isServerError(status: number): boolean {
  return status >= 500;
}
