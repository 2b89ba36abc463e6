import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, onRequestHookHandler, RouteOptions } from 'fastify';
import helmet from 'helmet';
import { addRouteHook } from './routeHooks.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers what a browser renders or runs (the dashboard's pages and assets): page headers. */
    documents?: boolean;
  }
  interface FastifyInstance {
    /** The routes another package's plugin registers in this scope answer documents (the OpenAPI UI). */
    routesAnswerDocuments?: boolean;
  }
}

/**
 * What every answer carries, JSON ones included (the API, errors, 404s, /metrics): what still protects when
 * the answer is not a page. A JSON answer opened as a document may load nothing and run nothing (CSP
 * `default-src 'none'`), no page may frame it (`frame-ancestors`, and X-Frame-Options for browsers without
 * it), no other site may pull it into its own process (CORP), and no browser sniffs it into HTML (`nosniff`).
 * The page headers helmet adds beyond these govern a document (its referrer, its opener, its DNS prefetch,
 * IE's download prompt, Flash's policy files, the old XSS auditor): on a JSON answer they protect nothing and
 * cost the answer ~370 bytes and a header check each (OWASP's REST cheat sheet lists the same for APIs).
 */
const ANSWER_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

/**
 * helmet's headers for pages, with explicit directives: its defaults add upgrade-insecure-requests, which
 * breaks pages on plain HTTP.
 */
const pageMiddleware = () =>
  helmet({
    hsts: false,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });

/**
 * The headers helmet sets for our configuration, read once at start: they depend on nothing in the request,
 * and helmet would build them again on every request (5 µs of a gate answer, CSP string included).
 */
function pageHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => {
      headers[name] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  pageMiddleware()({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return Object.freeze(headers);
}

/** Marks the routes another package's plugin registers in `scope` as answering documents. */
export function answerDocuments(scope: FastifyInstance): void {
  scope.decorate('routesAnswerDocuments', true);
}

/**
 * Security headers by what a route answers, both sets built once at start: every answer gets ANSWER_HEADERS
 * (a global hook, so 404s and errors raised before routing carry them too), and routes that answer documents
 * get the page headers on top, from a hook of their own. Install before any route is registered.
 */
export function securityHeaders(app: FastifyInstance): void {
  const pages = pageHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(ANSWER_HEADERS);
    done();
  });
  const setPageHeaders: onRequestHookHandler = (_request, reply, done) => {
    reply.headers(pages);
    done();
  };
  app.addHook('onRoute', function pageRoutes(this: FastifyInstance, route: RouteOptions) {
    if (route.config?.documents ?? this.routesAnswerDocuments)
      addRouteHook(route, 'onRequest', setPageHeaders);
  });
}
