import type { FastifyRequest } from 'fastify';

/** Header a trusted proxy or CI job sets to name who acts, until bearer tokens carry names. */
export const ACTOR_HEADER = 'x-sloguard-actor';

/**
 * Who is acting, for the audit trail of overrides. Bearer tokens with names arrive with authentication
 * (issue 10) and then name the actor; until then the `X-Sloguard-Actor` header does, else "anonymous".
 */
export function actorOf(request: FastifyRequest): string {
  const header = request.headers[ACTOR_HEADER];
  const name = (Array.isArray(header) ? header[0] : header)?.trim().slice(0, 128);
  return name || 'anonymous';
}
