/**
 * What the append-only, time-ordered tables (gate decisions, deployments) share: how they are listed and how
 * retention by age and by count picks what goes.
 */

/** A listing: newest first, of one service or all, within [fromMs, toMs), at most `limit` rows. */
export interface TrailQuery {
  service?: string;
  fromMs?: number;
  toMs?: number;
  limit: number;
}

/** A listing's SQL parameters: no service is every service, no bounds are all time. */
export function trailParams(query: TrailQuery) {
  return {
    service: query.service ?? null,
    from: query.fromMs ?? 0,
    to: query.toMs ?? Number.MAX_SAFE_INTEGER,
    limit: query.limit,
  };
}

/**
 * The time before which rows go: those older than `beforeMs`, and all but the newest `keep`.
 * `newestBeyondKeep` is the time of the newest row past the first `keep` (ORDER BY time DESC OFFSET keep).
 */
export function retentionCutoff(beforeMs: number, newestBeyondKeep: number | undefined): number {
  return newestBeyondKeep === undefined ? beforeMs : Math.max(beforeMs, newestBeyondKeep + 1);
}
