import { latency, type Request, random, zipkinSpan } from './traffic.js';

/**
 * The demo's services and how their requests look: user-profile and checkout behind nginx, and play-store's
 * "Browse" routes reported as Zipkin server spans. Seeded, so a run tells the same story each time.
 */
export const rand = random(8);

/**
 * How a stretch of time goes: `errors`, a share of requests that fail on top of the usual (a bad release, a
 * leaky dependency); `quiet`, no background errors (the start of the history, while budgets have few events
 * to spread them over).
 */
export interface Conditions {
  errors?: number;
  quiet?: boolean;
}

export interface ServiceTraffic {
  service: string;
  /** Requests per second. */
  rate: number;
  request(atMs: number, conditions?: Conditions): Request;
}

const failing = (conditions: Conditions) => (conditions.errors ?? 0) > 0 && rand() < conditions.errors!;

export const PROFILE: ServiceTraffic = {
  service: 'user-profile',
  rate: 12,
  request: (atMs, conditions = {}) => {
    const roll = rand();
    const failed = failing(conditions) || (roll >= 0.03 && roll < 0.0303 && !conditions.quiet);
    return {
      atMs,
      method: 'GET',
      path: `/profile/${1000 + Math.floor(rand() * 9000)}${roll < 0.1 ? '?tab=games' : ''}`,
      status: failed ? 502 : roll < 0.03 ? 404 : 200,
      seconds: latency(rand, 0.09),
    };
  },
};

export const CHECKOUT: ServiceTraffic = {
  service: 'checkout',
  rate: 10,
  request: (atMs, conditions = {}) => {
    const roll = rand();
    const order = roll < 0.3;
    // A bad release (not a leaky dependency's trickle of errors) also slows everything down.
    const incident = (conditions.errors ?? 0) >= 0.01;
    const failed = failing(conditions) || (rand() < 0.0001 && !conditions.quiet);
    return {
      atMs,
      method: order ? 'POST' : 'GET',
      path: order ? '/api/orders' : roll < 0.7 ? '/api/cart' : `/api/orders/${Math.floor(rand() * 1e6)}`,
      status: failed ? 503 : 200,
      seconds: latency(rand, incident ? 0.3 : 0.15),
    };
  },
};

/** The composite's components: the seed's "Browse" of a store app, reported as Zipkin server spans. */
const STORE_ROUTES = [
  { route: '/', path: () => '/' },
  {
    route: '/search',
    path: () => `/search?q=${['chess', 'maps', 'notes', 'music'][Math.floor(rand() * 4)]}`,
  },
  {
    route: '/category/:name',
    path: () => `/category/${['games', 'tools', 'social'][Math.floor(rand() * 3)]}`,
  },
  { route: '/apps/:id', path: () => `/apps/${Math.floor(rand() * 1e5)}` },
] as const;

/** `count` spans spread over `spreadMs` from `atMs`, the routes in turn; `failingRoute` fails by `conditions.errors`. */
export function storeSpans(
  atMs: number,
  count: number,
  spreadMs = 1000,
  conditions: Conditions & { failingRoute?: string } = {},
) {
  return Array.from({ length: count }, (_, i) => {
    const { route, path } = STORE_ROUTES[i % STORE_ROUTES.length]!;
    const failed =
      (route === conditions.failingRoute && failing(conditions)) || (rand() < 0.0003 && !conditions.quiet);
    const request = {
      atMs: atMs + Math.floor(rand() * spreadMs),
      method: 'GET',
      path: path(),
      status: failed ? 503 : 200,
      seconds: latency(rand, route === '/search' ? 0.2 : 0.07),
    };
    return zipkinSpan('play-store', route, request);
  });
}
