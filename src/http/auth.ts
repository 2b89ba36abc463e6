import { timingSafeEqual } from 'node:crypto';
import type {
  FastifyInstance,
  FastifyRequest,
  onRequestHookHandler,
  preValidationHookHandler,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import type { AuthSettings, PublicArea, Scope } from '../config/auth.js';
import { tokenDigest } from '../config/auth.js';
import { HttpError } from './errors.js';
import { addRouteHook } from './routeHooks.js';

export interface Principal {
  /** The token's name, or "anonymous" when the service runs open on loopback. */
  name: string;
  scopes: readonly Scope[];
}

/** Which scope a route needs: a scope, a public area name, or always public. */
export type RouteAccess = Scope | PublicArea | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call the route: health is public; ingest routes need `ingest`; the gate and deployment markers
     * `gate`; corrections, overrides and reload `admin`; other API reads and /docs `read`; pages the dashboard.
     * Every route declares it: one without fails at registration, so no route is open by accident.
     */
    access?: RouteAccess;
    /** The route may take its token from the body's `metadata.token` (Flagger cannot set headers). */
    tokenInBody?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    /** Every route with the access it needs, as the auth plugin saw them registered. */
    routeTable: RouteEntry[];
    /** The access of routes another package's plugin registers in this scope (they cannot declare one). */
    routesAccess?: RouteAccess;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  access: RouteAccess;
}

/** Who calls a service running open (on loopback): one frozen object, not one per request. */
const ANONYMOUS: Principal = Object.freeze({ name: 'anonymous', scopes: Object.freeze(['admin'] as const) });

function bearer(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Flagger cannot set headers on its webhooks; it may send the token as `metadata.token`. */
function bodyToken(request: FastifyRequest): string | undefined {
  const metadata = (request.body as { metadata?: { token?: unknown } } | null | undefined)?.metadata;
  return typeof metadata?.token === 'string' ? metadata.token : undefined;
}

/**
 * Bearer tokens with scopes on every route. Tokens are compared by SHA-256 digest with timingSafeEqual,
 * against every configured token (no early exit). 401 when the token is missing or unknown, 403 when it
 * lacks the route's scope; `admin` holds every scope.
 */
/** Gives the routes a plugin of another package registers in `scope` an access, as if they declared it. */
export function grantAccess(scope: FastifyInstance, access: RouteAccess): void {
  scope.decorate('routesAccess', access);
}

export default fp<{ auth: AuthSettings }>(
  async (app, { auth }) => {
    const open = auth.tokens.length === 0;
    const publicAreas = new Set<string>(auth.public);

    const identify = (token: string): Principal | undefined => {
      const digest = tokenDigest(token);
      let found: Principal | undefined;
      for (const entry of auth.tokens) {
        if (timingSafeEqual(entry.digest, digest) && !found)
          found = { name: entry.name, scopes: entry.scopes };
      }
      return found;
    };

    /** Runs only on routes that need a scope (see the onRoute hook below). */
    const authorize = (request: FastifyRequest, token: string | undefined) => {
      const access = request.routeOptions.config.access as Exclude<RouteAccess, 'public'>;
      if (open) {
        request.principal = ANONYMOUS;
        return;
      }
      const headers = { 'www-authenticate': 'Bearer realm="sloguard"' };
      if (token === undefined)
        throw new HttpError(401, 'unauthorized', 'a bearer token is required', undefined, headers);
      const principal = identify(token);
      if (!principal)
        throw new HttpError(401, 'unauthorized', 'the bearer token is not valid', undefined, headers);
      const scope: Scope = access === 'dashboard' || access === 'metrics' ? 'read' : access;
      if (!principal.scopes.includes('admin') && !principal.scopes.includes(scope)) {
        throw new HttpError(403, 'forbidden', `token "${principal.name}" lacks the "${scope}" scope`);
      }
      request.principal = principal;
    };

    const routeTable: RouteEntry[] = [];
    app.decorate('routeTable', routeTable);
    // Route-level hooks, on the routes that need a token only: public routes (health, a public area) pay
    // nothing, and the others a plain callback (no promise per request).
    const checkHeader: onRequestHookHandler = (request, _reply, done) => {
      const token = bearer(request.headers.authorization);
      // A route may take Flagger's token from its body: decide once the body is parsed.
      if (token === undefined && request.routeOptions.config.tokenInBody && request.method === 'POST')
        return done();
      try {
        authorize(request, token);
      } catch (error) {
        return done(error as Error);
      }
      done();
    };
    const checkBody: preValidationHookHandler = (request, _reply, done) => {
      if (request.principal || request.method !== 'POST') return done();
      try {
        authorize(request, bearer(request.headers.authorization) ?? bodyToken(request));
      } catch (error) {
        return done(error as Error);
      }
      done();
    };
    app.addHook('onRoute', function declaredAccess(route: RouteOptions) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const access = route.config?.access ?? this.routesAccess;
      if (access === undefined)
        throw new Error(`route ${methods.join('|')} ${route.url} declares no access (config.access)`);
      route.config = { ...route.config, access };
      for (const method of methods) routeTable.push({ method, url: route.url ?? '', access });
      if (access === 'public' || publicAreas.has(access)) return;
      // First among the route's hooks: the rate limit keys on the principal it sets.
      addRouteHook(route, 'onRequest', checkHeader, true);
      if (route.config.tokenInBody) addRouteHook(route, 'preValidation', checkBody, true);
    });
  },
  { name: 'sloguard-auth' },
);
