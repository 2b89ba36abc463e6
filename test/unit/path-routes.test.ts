import { describe, expect, it } from 'vitest';
import { PathRoutes } from '../../src/ingest/loadbalancer/pathRoutes.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';

/**
 * `sloguard import` routes paths from the file's bytes through a cache keyed by their shape (ids stand for any
 * id): every path must get the route ServiceRoutes gives its text, on the first lookup and on the cached ones.
 */

const TEMPLATES: Record<string, string[]> = {
  shop: ['/profile/:id', '/files/*', '/api/{version}/health'],
  // An id-like literal: `/v2/12345` and `/v2/99999` share a shape but not a route.
  legacy: ['/v2/12345', '/orders/:id/items'],
  bare: [],
};

const PATHS = [
  '/',
  '',
  '/api/orders/15183',
  '/api/orders/77',
  '/api/orders/77/',
  '/api/orders/77?page=2',
  '/api/orders/77#top',
  '/api/orders/abc',
  '/profile/42',
  '/profile/alice',
  '/profile/',
  '/profile/42/posts',
  '/files/a/b/c',
  '/files/',
  '/api/v1/health',
  '/api/v1/health/',
  '/v2/12345',
  '/v2/99999',
  '/orders/550e8400-e29b-41d4-a716-446655440000/items',
  '/orders/550e8400-e29b-41d4-a716-446655440000/itemz',
  // UUID-shaped with no digit: still an id (the one id shape a segment without a digit can have).
  '/orders/abcdefab-abcd-abcd-abcd-abcdefabcdef/items',
  '/orders/abcdefab-abcd-abcd-abcd-abcdefabcdeg/items',
  '/sessions/9f86d081884c7d65',
  '/tokens/abcdefghijklmnopqrst1234',
  '/tokens/abcdefghijklmnopqrst',
  '//double//slash',
  '/ünïcode/42',
  '/路径/42',
  '/a-b_c/x_1',
  '?only=query',
  `/long/${'a'.repeat(600)}/42`,
  `/${'b'.repeat(509)}/1`,
  `/${'b'.repeat(510)}/1`,
];

describe('routes of paths read from bytes', () => {
  it('are the routes of their text, first and cached, for every service', () => {
    const routes = new ServiceRoutes((service) => TEMPLATES[service] ?? []);
    const fromText = new ServiceRoutes((service) => TEMPLATES[service] ?? []);
    const pathRoutes = new PathRoutes(routes);
    const bytes = Buffer.from(`GET ${PATHS.join(' ')} HTTP/1.1`, 'utf8');
    for (let round = 0; round < 2; round++) {
      let at = 4;
      for (const path of PATHS) {
        const end = at + Buffer.byteLength(path);
        for (const service of Object.keys(TEMPLATES)) {
          expect(pathRoutes.route(service, bytes, at, end), `${service} ${path}`).toBe(
            fromText.route(service, path),
          );
        }
        at = end + 1;
      }
    }
  });

  it('shares one cached route among paths of one shape, and tells the id-like literal apart', () => {
    const routes = new ServiceRoutes((service) => TEMPLATES[service] ?? []);
    const pathRoutes = new PathRoutes(routes);
    const route = (service: string, path: string) => {
      const bytes = Buffer.from(path);
      return pathRoutes.route(service, bytes, 0, bytes.length);
    };
    expect(route('bare', '/api/orders/1')).toBe('/api/orders/:id');
    expect(route('bare', '/api/orders/2')).toBe('/api/orders/:id');
    expect(route('legacy', '/v2/12345')).toBe('/v2/12345');
    expect(route('legacy', '/v2/99999')).toBe('/v2/:id');
  });
});
