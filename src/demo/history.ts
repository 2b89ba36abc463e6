import { CHECKOUT, type Conditions, PROFILE, rand, storeSpans } from './services.js';
import { nginxLine } from './traffic.js';

/**
 * The demo's month of history, sent through the public ingest routes before the live story begins, so every
 * range of the dashboard shows a real shape: a slow burn, two incidents and releases.
 */

export const HISTORY_DAYS = 28;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/**
 * Requests per hour and service in the history: four a minute over the last day, one a minute before (the
 * live traffic is denser; budgets are ratios). Charts read hour rollups past the minute retention (a day by
 * default), so older history needs only the right count per hour, and the month costs a few seconds to send.
 */
const RECENT_PER_HOUR = 240;
const OLDER_PER_HOUR = 60;
/** Hours of history per request: a few thousand lines, so memory stays flat however long the history. */
const CHUNK_HOURS = 6;

type Service = 'user-profile' | 'checkout' | 'play-store';

/** Stretches of the month where a service fails more than usual, in days before now. */
interface Episode {
  service: Service;
  startDaysAgo: number;
  hours: number;
  errors: number;
  failingRoute?: string;
}

const EPISODES: readonly Episode[] = [
  // A leaky dependency: 0.12% of checkout requests fail for five days, above the budget's pace.
  { service: 'checkout', startDaysAgo: 12, hours: 5 * 24, errors: 0.0012 },
  // Release v2.6.0 fails 15% of checkouts for 45 minutes until it is rolled back.
  { service: 'checkout', startDaysAgo: 17.6, hours: 0.75, errors: 0.15 },
  // The search backend of play-store times out for an hour (early: /search has few events a day in the history).
  { service: 'play-store', startDaysAgo: 25.5, hours: 1, errors: 0.35, failingRoute: '/search' },
];

export interface Release {
  service: Service;
  version: string;
  daysAgo: number;
}

/** Releases over the month, marked on the charts; v2.6.0 starts the checkout incident and v2.5.9 ends it. */
export const RELEASES: readonly Release[] = [
  { service: 'checkout', version: 'v2.5.0', daysAgo: 25.3 },
  { service: 'user-profile', version: 'v1.14.0', daysAgo: 22.6 },
  { service: 'checkout', version: 'v2.5.8', daysAgo: 19.2 },
  { service: 'checkout', version: 'v2.6.0', daysAgo: 17.6 },
  { service: 'checkout', version: 'v2.5.9', daysAgo: 17.6 - 0.75 / 24 },
  { service: 'user-profile', version: 'v1.15.0', daysAgo: 14 },
  { service: 'play-store', version: 'v7.2.0', daysAgo: 11.2 },
  { service: 'checkout', version: 'v2.6.1', daysAgo: 10.3 },
  { service: 'checkout', version: 'v2.7.0', daysAgo: 4.1 },
  { service: 'user-profile', version: 'v1.16.0', daysAgo: 3.2 },
];

/** One request's worth of history: access-log lines per service and play-store's spans. */
export interface HistoryChunk {
  lines: Array<[service: string, lines: string[]]>;
  spans: unknown[];
}

function conditionsAt(service: Service, atMs: number, nowMs: number, quiet: boolean) {
  const episode = EPISODES.find((e) => {
    const startMs = nowMs - e.startDaysAgo * DAY;
    return e.service === service && atMs >= startMs && atMs < startMs + e.hours * HOUR;
  });
  const conditions: Conditions & { failingRoute?: string } = { quiet };
  if (episode) {
    conditions.errors = episode.errors;
    if (episode.failingRoute) conditions.failingRoute = episode.failingRoute;
  }
  return conditions;
}

/**
 * The month before `nowMs` (up to the minute before it), CHUNK_HOURS at a time, newest first: the evaluator
 * runs while the history arrives, so each incident should land on a budget that already holds the days after
 * it (oldest first, the first incident met a few days of events and exhausted its budget for history still
 * arriving). For the same reason the newest day, sent first, has no background errors.
 */
export function* historyChunks(nowMs: number): Generator<HistoryChunk> {
  const startMs = Math.floor((nowMs - HISTORY_DAYS * DAY) / HOUR) * HOUR;
  const endMs = Math.floor(nowMs / MINUTE) * MINUTE - MINUTE;
  const chunkCount = Math.ceil((endMs - startMs) / (CHUNK_HOURS * HOUR));
  for (let chunk = chunkCount - 1; chunk >= 0; chunk--) {
    const chunkMs = startMs + chunk * CHUNK_HOURS * HOUR;
    const profile: string[] = [];
    const checkout: string[] = [];
    const spans: unknown[] = [];
    for (let hourMs = chunkMs; hourMs < Math.min(chunkMs + CHUNK_HOURS * HOUR, endMs); hourMs += HOUR) {
      const quiet = hourMs >= endMs - DAY;
      const spreadMs = Math.min(HOUR, endMs - hourMs);
      const perHour = hourMs >= endMs - DAY ? RECENT_PER_HOUR : OLDER_PER_HOUR;
      const count = Math.ceil((perHour * spreadMs) / HOUR);
      for (const [traffic, into] of [
        [PROFILE, profile],
        [CHECKOUT, checkout],
      ] as const) {
        for (let i = 0; i < count; i++) {
          const atMs = hourMs + Math.floor(rand() * spreadMs);
          const conditions = conditionsAt(traffic.service as Service, atMs, nowMs, quiet);
          into.push(nginxLine(traffic.request(atMs, conditions), rand));
        }
      }
      // No background errors in play-store's history: its routes have few events a day here, and the outage
      // should stand out from them without spending a budget that small.
      spans.push(...storeSpans(hourMs, count, spreadMs, conditionsAt('play-store', hourMs, nowMs, true)));
    }
    yield {
      lines: [
        ['user-profile', profile],
        ['checkout', checkout],
      ],
      spans,
    };
  }
}
