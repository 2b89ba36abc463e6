import type { Socket } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from './errors.js';

export interface RateLimits {
  gatePerMinute: number;
  ingestPerMinute: number;
}

/**
 * Per-token rate limits on the gate and ingest routes (per client address when the service runs open).
 * Other routes are cheap reads and stay unlimited. Needs the auth plugin registered first: the limit of a
 * route follows its access rule.
 */
export default fp<{ limits: RateLimits }>(
  async (app, { limits }) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      const access = route.config?.access;
      const max = access === 'gate' ? limits.gatePerMinute : access === 'ingest' ? limits.ingestPerMinute : 0;
      if (max > 0) route.config = { ...route.config, rateLimit: { max, timeWindow: 60_000 } };
    });
    await app.register(rateLimit, {
      global: false,
      keyGenerator: (request: FastifyRequest) => request.principal?.name ?? request.ip,
      errorResponseBuilder: (_request, context) =>
        new HttpError(
          429,
          'rate_limited',
          `more than ${context.max} requests per minute; retry in ${Math.ceil(context.ttl / 1000)} s`,
        ),
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
