import type { AlertLevel } from '../../src/model/alert.js';
import { AlertEpisodeStore } from '../../src/store/alertEpisodes.js';
import type { Db } from '../../src/store/database.js';

const MINUTE = 60_000;
const STORE_ROUTES = ['/', '/search', '/category/:name', '/apps/:id'] as const;

/**
 * Zipkin v2 server spans of the demo's play-store (the components of its `store-browse` composite): one per
 * route and minute over the `minutes` before `nowMs`, failing where `failed(route, minutesAgo)` says.
 */
export function storeSpans(
  nowMs: number,
  minutes: number,
  failed: (route: string, minutesAgo: number) => boolean,
) {
  return Array.from({ length: minutes * STORE_ROUTES.length }, (_, i) => {
    const route = STORE_ROUTES[i % STORE_ROUTES.length]!;
    const minutesAgo = minutes - Math.floor(i / STORE_ROUTES.length);
    return {
      traceId: (i + 1).toString(16).padStart(16, '0'),
      id: (i + 1).toString(16).padStart(16, '0'),
      kind: 'SERVER',
      name: `get ${route}`,
      timestamp: (nowMs - minutesAgo * MINUTE) * 1000,
      duration: 25_000,
      localEndpoint: { serviceName: 'play-store' },
      tags: {
        'http.method': 'GET',
        'http.route': route,
        'http.status_code': failed(route, minutesAgo) ? '503' : '200',
      },
    };
  });
}

/** An alert episode as the alerting keeps it while open (in-process test apps run no alerting). */
export function openAlert(db: Db, slo: string, service: string, level: AlertLevel, startedAtMs: number) {
  new AlertEpisodeStore(db).set(slo, {
    slo,
    service,
    id: `${slo}-episode`,
    level,
    notifiedLevel: level,
    startedAtMs,
    lastNotifiedAtMs: startedAtMs,
    badEventsAtStart: 0,
  });
}
