import { HttpError } from './errors.js';

/** A time in a query: RFC 3339 (`2026-11-23T10:00:00Z`) or Unix seconds, as Prometheus's API accepts. */
export function parseTimeParam(field: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw new HttpError(
      400,
      'invalid_query',
      `${field} must be RFC 3339 or Unix seconds, got "${text}"`,
      field,
    );
  }
  return ms;
}

export const isoTime = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();
