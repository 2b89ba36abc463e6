import type { FastifyRequest } from 'fastify';

/** Header that names who acts when the service runs open (no tokens configured, loopback only). */
export const ACTOR_HEADER = 'x-sloguard-actor';

/**
 * Who is acting, for the audit trail of overrides: the name of the bearer token. When the service runs open
 * every caller is "anonymous", so there a caller may name itself in `X-Sloguard-Actor`.
 */
export function actorOf(request: FastifyRequest): string {
  const principal = request.principal?.name;
  if (principal && principal !== 'anonymous') return principal;
  const header = request.headers[ACTOR_HEADER];
  const name = (Array.isArray(header) ? header[0] : header)?.trim().slice(0, 128);
  return name || 'anonymous';
}
