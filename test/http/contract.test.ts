import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { Answer } from '../../src/http/schemas/common.js';
import { testApp } from '../helpers/app.js';

let ctx: Awaited<ReturnType<typeof testApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

/** fastify's `/api/v1/slos/:name` as OpenAPI writes it: `/api/v1/slos/{name}`. */
const openApiPath = (url: string) => url.replace(/:([^/]+)/g, '{$1}');

describe('the response check the test apps run with', () => {
  it('turns an answer its schema does not declare into a 500 naming the mismatch', async () => {
    ctx = await testApp();
    const schema = { response: { 200: Answer({ ok: Type.Boolean() }) } };
    const config = { access: 'read' as const };
    ctx.app.get('/api/v1/test/true', { config, schema }, async () => ({ ok: true }));
    ctx.app.get('/api/v1/test/extra', { config, schema }, async () => ({ ok: true, forgotten: 1 }));
    ctx.app.get('/api/v1/test/wrong', { config, schema }, async () => ({ ok: 'yes' }));
    ctx.app.get('/api/v1/test/status', { config, schema }, async (_request, reply) =>
      // Past the type provider on purpose: a status the schema does not declare.
      (reply as FastifyReply).code(418).send({ ok: true }),
    );
    expect((await ctx.app.inject('/api/v1/test/true')).json()).toEqual({ ok: true });
    for (const [url, problem] of [
      ['/api/v1/test/extra', /answered 200 against its schema: .*forgotten/],
      ['/api/v1/test/wrong', /answered 200 against its schema: \/ok /],
      ['/api/v1/test/status', /answered 418 against its schema: status 418 is not among the declared/],
    ] as const) {
      const response = await ctx.app.inject(url);
      expect(response.statusCode, url).toBe(500);
      expect(response.json()).toMatchObject({
        error: 'response_contract',
        message: expect.stringMatching(problem),
      });
    }
  });

  it('refuses a route that declares no response schema', async () => {
    ctx = await testApp();
    expect(() =>
      ctx!.app.get('/api/v1/test/undeclared', { config: { access: 'read' } }, async () => ({ ok: true })),
    ).toThrowError(/GET \/api\/v1\/test\/undeclared declares no response schema/);
  });

  it('writes answers as JSON.stringify does: a schema neither drops nor coerces a field', async () => {
    ctx = await testApp({ checkResponses: false });
    const schema = { response: { 200: Answer({ count: Type.Number() }) } };
    ctx.app.get('/api/v1/test/loose', { config: { access: 'read' }, schema }, async () => ({
      count: '7',
      extra: true,
    }));
    expect((await ctx.app.inject('/api/v1/test/loose')).body).toBe('{"count":"7","extra":true}');
  });
});

describe('the OpenAPI document at /docs', () => {
  it('is a valid OpenAPI 3 document with every route of the API and its answers', async () => {
    ctx = await testApp({}, {}, { reload: async () => ({ ok: true, slos: 0 }) });
    const response = await ctx.app.inject('/docs/json');
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toMatch(/^3\./);
    expect(await new Validator().validate(document)).toEqual({ valid: true });
    const routes = ctx.app.routeTable.filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'));
    expect(routes.length).toBeGreaterThan(20);
    for (const { method, url, access } of routes) {
      const operation = document.paths[openApiPath(url)]?.[method.toLowerCase()];
      expect(operation, `${method} ${url} in the document`).toBeDefined();
      const statuses = Object.keys(operation.responses);
      expect(
        statuses.some((s) => /^2\d\d$/.test(s)),
        `${method} ${url} declares a success`,
      ).toBe(true);
      expect(statuses, `${method} ${url} declares its 500`).toContain('500');
      if (access !== 'public') expect(statuses, `${method} ${url} declares auth errors`).toContain('401');
      expect(operation.security, `${method} ${url} security`).toEqual(
        access === 'public' ? [] : [{ bearer: [] }],
      );
    }
    const gate = document.paths['/api/v1/gate'].get.responses;
    expect(Object.keys(gate)).toEqual(
      expect.arrayContaining(['200', '423', '503', '400', '401', '403', '429']),
    );
    expect(document.paths['/api/v1/gate/evaluations'].post.responses).toHaveProperty('202');
  });

  it('needs the read scope and serves the UI with every asset from our own origin', async () => {
    ctx = await testApp({
      auth: {
        tokens: [
          {
            name: 'reader',
            digest: (await import('../../src/config/auth.js')).tokenDigest('read-token-0123456789ab'),
            scopes: ['read'],
          },
        ],
        public: [],
      },
    });
    expect((await ctx.app.inject('/docs/json')).statusCode).toBe(401);
    const headers = { authorization: 'Bearer read-token-0123456789ab' };
    const index = await ctx.app.inject({ url: '/docs', headers });
    expect(index.statusCode).toBe(200);
    // Inline styles for Swagger UI's pages only; scripts stay files of our own origin.
    expect(index.headers['content-security-policy']).toContain("script-src 'self';");
    expect(index.headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline';");
    const dashboard = await ctx.app.inject({ url: '/', headers });
    expect(dashboard.headers['content-security-policy']).toContain("style-src 'self';");
    const assets = [...index.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(3);
    for (const asset of assets) {
      // Nothing from another origin (no CDN).
      expect(asset, asset).not.toMatch(/^(https?:)?\/\//);
      const url = new URL(asset, 'http://127.0.0.1/docs').pathname;
      const loaded = await ctx.app.inject({ url, headers });
      expect(loaded.statusCode, url).toBe(200);
    }
    const initializer = await ctx.app.inject({ url: '/docs/static/swagger-initializer.js', headers });
    // The UI reads our document, and asks no validator elsewhere.
    expect(initializer.body).toContain("resolveUrl('./json')");
    expect(initializer.body).toContain('"validatorUrl":null');
  });
});
