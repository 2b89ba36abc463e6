import Type from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app.js';

let ctx: Awaited<ReturnType<typeof testApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

describe('access declared on the route', () => {
  it('refuses to register a route that declares no access, so none is open by accident', async () => {
    ctx = await testApp();
    expect(() => ctx!.app.get('/api/v1/forgotten', async () => ({ open: true }))).toThrowError(
      /GET \/api\/v1\/forgotten declares no access/,
    );
    ctx.app.get(
      '/api/v1/declared',
      { config: { access: 'admin' }, schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } } },
      async () => ({ ok: true }),
    );
    expect(ctx.app.routeTable).toContainEqual({ method: 'GET', url: '/api/v1/declared', access: 'admin' });
  });

  it('gives every route of the app a declared access', async () => {
    ctx = await testApp({}, {}, { reload: async () => ({ ok: true, slos: 0 }) });
    await ctx.app.ready();
    const access = Object.fromEntries(ctx.app.routeTable.map((r) => [`${r.method} ${r.url}`, r.access]));
    expect(access).toMatchObject({
      'GET /healthz': 'public',
      'GET /metrics': 'metrics',
      'POST /api/v1/ingest/lb': 'ingest',
      'POST /api/v2/spans': 'ingest',
      'GET /api/v1/gate': 'gate',
      'POST /api/v1/gate/evaluations': 'gate',
      'POST /api/v1/deployments': 'gate',
      'GET /api/v1/deployments': 'read',
      'POST /api/v1/gate/overrides': 'admin',
      'POST /-/reload': 'admin',
      'GET /api/v1/slos': 'read',
      'GET /': 'dashboard',
    });
  });
});
