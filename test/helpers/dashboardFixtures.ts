import type { AlertLevel } from '../../src/model/alert.js';
import { AlertEpisodeStore } from '../../src/store/alertEpisodes.js';
import type { Db } from '../../src/store/database.js';
import { nginxLine } from './app.js';

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

/**
 * Checkout traffic over the hour before `nowMs`, 100 requests a minute for 20 minutes (2,000), in three series
 * the test makes bad with known counts: GET /api/cart 1,000 requests of which 30 fail (all in minute 10 before
 * now), POST /api/orders 500 of which 20 fail and 20 are slower than 800 ms, GET /api/orders/:id 500, all good.
 */
export function checkoutLines(nowMs: number): string[] {
  const lines: string[] = [];
  for (let minute = 20; minute >= 1; minute--) {
    const t = nowMs - minute * MINUTE;
    for (let i = 0; i < 100; i++) {
      const at = t + i * 500;
      if (i < 50) {
        const failed = minute === 10 && i < 30;
        lines.push(nginxLine(at, 'GET', '/api/cart', failed ? 503 : 200, 0.05));
      } else if (i < 75) {
        const n = (20 - minute) * 25 + (i - 50);
        lines.push(nginxLine(at, 'POST', '/api/orders', n < 20 ? 500 : 201, n >= 480 ? 1.2 : 0.2));
      } else {
        lines.push(nginxLine(at, 'GET', `/api/orders/${i}`, 200, 0.1));
      }
    }
  }
  return lines;
}
