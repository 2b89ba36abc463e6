import { inRange, outOfRangeReason, type TimeRange } from '../ingest/timeRange.js';
import { HttpError } from './errors.js';

const UNIX_SECONDS = /^\d+(\.\d+)?$/;

/**
 * A time in a query or body: RFC 3339 (`2026-11-23T10:00:00Z`) or Unix seconds, as Prometheus's API accepts,
 * as whole epoch ms. Outside `range` (see timeRange.ts) it is a 400 naming the field, so no later step sees a
 * time a Date cannot hold or a range too long to walk.
 */
export function parseTimeParam(
  field: string,
  text: string | undefined,
  range: TimeRange,
): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = Math.round(UNIX_SECONDS.test(text) ? Number(text) * 1000 : Date.parse(text));
  if (!Number.isFinite(ms)) {
    throw new HttpError(
      400,
      'invalid_query',
      `${field} must be RFC 3339 or Unix seconds, got "${text.slice(0, 64)}"`,
      field,
    );
  }
  if (!inRange(ms, range)) {
    const reason = outOfRangeReason(ms, range, `${field} "${text.slice(0, 64)}"`);
    throw new HttpError(400, 'invalid_query', reason, field);
  }
  return ms;
}

export const isoTime = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();
