/**
 * The counters collectors write into an engine and the evaluator reads back (docs/scaling.md, "Series the
 * collectors write"): one list, so the writer and the reader cannot drift apart.
 */
export const COLLECTOR_METRICS = {
  requests: 'sloguard_requests_total',
  errors: 'sloguard_request_errors_total',
  ruleEvents: 'sloguard_rule_events_total',
  durationBucket: 'sloguard_request_duration_seconds_bucket',
  durationCount: 'sloguard_request_duration_seconds_count',
} as const;
