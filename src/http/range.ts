import Type, { type Static } from 'typebox';
import type { TimeRange } from '../ingest/timeRange.js';
import { parseTimeParam } from './time.js';

/** `?service=&from=&to=&limit=`: the query of the gate's lists (decisions, deployments). */
export const serviceRangeQuery = (maxLimit: number) =>
  Type.Object({
    service: Type.Optional(Type.String()),
    from: Type.Optional(Type.String()),
    to: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: maxLimit })),
  });

/** The query as a store reads it; times are RFC 3339 or Unix seconds within the accepted range. */
export function serviceRange(
  query: Static<ReturnType<typeof serviceRangeQuery>>,
  defaultLimit: number,
  accepted: TimeRange,
) {
  return {
    ...(query.service !== undefined && { service: query.service }),
    fromMs: parseTimeParam('from', query.from, accepted),
    toMs: parseTimeParam('to', query.to, accepted),
    limit: query.limit ?? defaultLimit,
  };
}
