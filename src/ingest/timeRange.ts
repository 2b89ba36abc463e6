/**
 * The one range every time that enters is held to (observations of every source, deployments, query ranges):
 * not before the hour retention, not later than the allowed clock skew ahead of the server clock. Data older
 * than the retention would be deleted at the next pass; data from the future would lie in wait for the error
 * budget at a time the sender chose; and times past what a Date holds break every view that shows them.
 */
export interface TimeRange {
  /** Earliest accepted time, epoch ms (inclusive). */
  fromMs: number;
  /** Latest accepted time, epoch ms (inclusive). */
  toMs: number;
}

/** How far from the server clock a time may lie. */
export interface TimePolicy {
  retentionMs: number;
  maxSkewMs: number;
}

/** ECMAScript's limit: a Date holds ±8.64e15 ms (±100,000,000 days) and nothing beyond. */
export const DATE_LIMIT_MS = 8.64e15;

/** Any time a Date holds from the epoch on: what a batch made without a policy (unit tests, tools) takes. */
export const ANY_TIME: TimeRange = { fromMs: 0, toMs: DATE_LIMIT_MS };

/** The metric and answer reason for an observation refused for its time. */
export const TIME_OUT_OF_RANGE = 'time_out_of_range';

export function timePolicy(config: { hourRetentionDays: number; maxClockSkewMs: number }): TimePolicy {
  return { retentionMs: config.hourRetentionDays * 86_400_000, maxSkewMs: config.maxClockSkewMs };
}

export function acceptedRange(policy: TimePolicy, nowMs: number): TimeRange {
  return { fromMs: Math.max(0, nowMs - policy.retentionMs), toMs: nowMs + policy.maxSkewMs };
}

export const inRange = (ms: number, range: TimeRange): boolean => ms >= range.fromMs && ms <= range.toMs;

/** A time as a reader can check it: RFC 3339 when a Date holds it, else the raw number. */
function shown(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= DATE_LIMIT_MS ? new Date(ms).toISOString() : String(ms);
}

/** Why `ms` is refused, `subject` naming it (`time 2026-…Z`, `to "99999999999999"`); only when not `inRange`. */
export function outOfRangeReason(ms: number, range: TimeRange, subject = `time ${shown(ms)}`): string {
  if (ms > range.toMs)
    return `${subject} is ahead of the server clock by more than the allowed skew (latest accepted ${shown(range.toMs)})`;
  if (ms < range.fromMs)
    return `${subject} is before the hour retention (earliest accepted ${shown(range.fromMs)})`;
  return `${subject} is not a time`;
}

/** An observation whose time lies outside the batch's accepted range; never stored. */
export class TimeOutOfRange extends Error {
  override name = 'TimeOutOfRange';
  constructor(
    readonly timeMs: number,
    range: TimeRange,
  ) {
    super(outOfRangeReason(timeMs, range));
  }
}
