import { describe, expect, it } from 'vitest';
import { normalisePath, RouteNormalizer } from '../../src/ingest/routeTemplates.js';

describe('route templates', () => {
  it('normalises id-like segments and drops query strings', () => {
    expect(normalisePath('/profile/123')).toBe('/profile/:id');
    expect(normalisePath('/users/42/orders/9f86d081884c7d65?x=1')).toBe('/users/:id/orders/:id');
    expect(normalisePath('/o/123e4567-e89b-12d3-a456-426614174000')).toBe('/o/:id');
    expect(normalisePath('/static/app.css')).toBe('/static/app.css');
    expect(normalisePath('/api/v1/items')).toBe('/api/v1/items');
    expect(normalisePath('/?q=1')).toBe('/');
    expect(normalisePath('')).toBe('/');
  });

  it('tries configured templates first', () => {
    const routes = new RouteNormalizer(['/profile/:id', '/blog/{slug}', '/files/*']);
    expect(routes.route('/profile/alice')).toBe('/profile/:id');
    expect(routes.route('/profile/alice/')).toBe('/profile/:id');
    expect(routes.route('/blog/hello-world?ref=x')).toBe('/blog/{slug}');
    expect(routes.route('/files/a/b/c.txt')).toBe('/files/*');
    expect(routes.route('/other/77')).toBe('/other/:id');
  });

  // The cap on a service's routes moved to the series caps at commit (one count for every thread and
  // source, kept across restarts): test/unit/cardinality.test.ts. The normaliser only names routes.
  it('names routes without capping them: the series caps decide what is kept', () => {
    const routes = new RouteNormalizer(['/profile/:id']);
    expect(['/a', '/b', '/c', '/d'].map((p) => routes.route(p))).toEqual(['/a', '/b', '/c', '/d']);
    expect(routes.route('/a?x=1')).toBe('/a');
    expect(routes.route('/profile/99')).toBe('/profile/:id');
  });
});
