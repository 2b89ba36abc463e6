/**
 * Time windows declared by people: corrections (planned downtime) and calendar change freezes. One-off (a start
 * and an end) or recurring (a cron expression in a time zone, each occurrence lasting `duration`).
 */
export type TimeWindow =
  | { kind: 'once'; startMs: number; endMs: number }
  | { kind: 'recurring'; cron: string; timeZone: string; durationMs: number };

/** [startMs, endMs) */
export interface Interval {
  startMs: number;
  endMs: number;
}
