import type { Socket } from 'node:net';
import type { onRequestHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from './errors.js';
import { addRouteHook } from './routeHooks.js';

export interface RateLimits {
  gatePerMinute: number;
  ingestPerMinute: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's requests per minute per client, set from its access rule (absent: unlimited). */
    rateLimit?: { max: number };
  }
}

const WINDOW_MS = 60_000;
/** Clients one route keeps a window for: tokens are few, but addresses (open on loopback) are not bounded. */
export const MAX_CLIENTS_PER_ROUTE = 5_000;

interface Window {
  count: number;
  startMs: number;
}

/**
 * One route's budget: each client may make `max` requests per window, the window starting at its first
 * request (the fixed windows @fastify/rate-limit's local store kept). Bounded: past MAX_CLIENTS_PER_ROUTE
 * clients the one seen first is forgotten (its next request opens a fresh window).
 */
export class RouteBudget {
  private readonly windows = new Map<string, Window>();

  constructor(readonly max: number) {}

  /** Counts one request of `client` at `nowMs`: the window it fell in. */
  spend(client: string, nowMs: number): Readonly<Window> {
    let window = this.windows.get(client);
    if (window === undefined) {
      if (this.windows.size >= MAX_CLIENTS_PER_ROUTE) this.windows.delete(this.windows.keys().next().value!);
      window = { count: 0, startMs: nowMs };
      this.windows.set(client, window);
    } else if (nowMs - window.startMs >= WINDOW_MS) {
      window.count = 0;
      window.startMs = nowMs;
    }
    window.count += 1;
    return window;
  }

  get clients(): number {
    return this.windows.size;
  }
}

/**
 * The hook of one rate-limited route: a plain callback, where @fastify/rate-limit's awaited three promises
 * and a few objects per request. Every answer says the budget (x-ratelimit-limit, -remaining, -reset in
 * seconds); past it, 429 with Retry-After.
 */
function limitRoute(budget: RouteBudget): onRequestHookHandler {
  const limit = String(budget.max);
  return (request, reply, done) => {
    const nowMs = Date.now();
    const window = budget.spend(request.principal?.name ?? request.ip, nowMs);
    const reset = Math.ceil((window.startMs + WINDOW_MS - nowMs) / 1000);
    reply
      .header('x-ratelimit-limit', limit)
      .header('x-ratelimit-remaining', String(Math.max(0, budget.max - window.count)))
      .header('x-ratelimit-reset', String(reset));
    if (window.count <= budget.max) return done();
    reply.header('retry-after', String(reset));
    done(
      new HttpError(429, 'rate_limited', `more than ${budget.max} requests per minute; retry in ${reset} s`),
    );
  };
}

/**
 * Per-token rate limits on the gate and ingest routes (per client address when the service runs open), one
 * budget per route. Other routes are cheap reads and stay unlimited. Needs the auth plugin registered first:
 * the limit of a route follows its access rule, and its hook runs after auth's (it keys on the principal).
 */
export default fp<{ limits: RateLimits }>(
  async (app, { limits }) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      const access = route.config?.access;
      const max = access === 'gate' ? limits.gatePerMinute : access === 'ingest' ? limits.ingestPerMinute : 0;
      if (max <= 0) return;
      route.config = { ...route.config, rateLimit: { max } };
      addRouteHook(route, 'onRequest', limitRoute(new RouteBudget(max)));
    });
  },
  { name: 'sloguard-limits', dependencies: ['sloguard-auth'] },
);

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout'],
};

/** Malformed HTTP never reaches a route; it still gets the documented JSON error before the socket closes. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'bad_request'];
  const body = JSON.stringify({
    error: code,
    message: `malformed HTTP request (${error.code ?? error.message})`,
  });
  socket.end(
    `HTTP/1.1 ${status} ${code.replaceAll('_', ' ')}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
