import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthSettings, isLoopback, type Scope, tokenDigest } from '../../src/config/auth.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { testApp } from '../helpers/app.js';
import { tempDir } from '../helpers/tmp.js';

const TOKENS: Record<Scope, string> = {
  ingest: 'ingest-token-0123456789',
  read: 'read-token-0123456789ab',
  gate: 'gate-token-0123456789ab',
  admin: 'admin-token-0123456789a',
};
const auth = (publicAreas: AuthSettings['public'] = []): AuthSettings => ({
  tokens: Object.entries(TOKENS).map(([scope, token]) => ({
    name: `${scope}-bot`,
    digest: tokenDigest(token),
    scopes: [scope as Scope],
  })),
  public: publicAreas,
});

/** A token that does not hold the scope a route needs. */
const WRONG_SCOPE: Record<string, Scope> = {
  read: 'ingest',
  dashboard: 'ingest',
  metrics: 'ingest',
  ingest: 'read',
  gate: 'read',
  admin: 'gate',
};

describe('every route by scope', () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    // With a reloader, so `POST /-/reload` is among the routes checked.
    ctx = await testApp({ auth: auth() }, {}, { reload: async () => ({ ok: true, slos: 0 }) });
    await ctx.app.ready();
  });
  afterAll(() => ctx.close());

  it('answers 401 without or with a wrong token and 403 with the wrong scope, except public routes', async () => {
    const routes = ctx.app.routeTable.filter((route) => route.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(5);
    const checked: string[] = [];
    for (const { method, url, access } of routes) {
      const path = url.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x');
      const request = (token?: string) =>
        ctx.app.inject({
          method: method as 'GET',
          url: path,
          ...(token && { headers: { authorization: `Bearer ${token}` } }),
          ...(method !== 'GET' && { payload: {} }),
        });
      const anonymous = await request();
      if (access === 'public') {
        expect([401, 403], `${method} ${url}`).not.toContain(anonymous.statusCode);
        continue;
      }
      expect(anonymous.statusCode, `${method} ${url} without a token`).toBe(401);
      expect(anonymous.headers['www-authenticate']).toContain('Bearer');
      expect(anonymous.json()).toMatchObject({ error: 'unauthorized' });
      const wrong = await request('not-a-configured-token-at-all');
      expect(wrong.statusCode, `${method} ${url} with a wrong token`).toBe(401);
      const scoped = await request(TOKENS[WRONG_SCOPE[access]!]);
      expect(scoped.statusCode, `${method} ${url} with a token of the wrong scope`).toBe(403);
      expect(scoped.json()).toMatchObject({ error: 'forbidden' });
      const admin = await request(TOKENS.admin);
      expect([401, 403], `${method} ${url} as admin`).not.toContain(admin.statusCode);
      checked.push(`${method} ${url}`);
    }
    expect(checked).toEqual(
      expect.arrayContaining(['GET /api/v1/slos', 'POST /api/v1/ingest/lb', 'GET /api/v1/gate']),
    );
  });

  it('lets a token of the right scope through', async () => {
    const gate = await ctx.app.inject({
      url: '/api/v1/gate?service=checkout',
      headers: { authorization: `Bearer ${TOKENS.gate}` },
    });
    expect(gate.statusCode).toBe(200);
    const slos = await ctx.app.inject({
      url: '/api/v1/slos',
      headers: { authorization: `Bearer ${TOKENS.read}` },
    });
    expect(slos.statusCode).toBe(200);
  });

  it("accepts Flagger's token from metadata.token in the gate's body", async () => {
    const withToken = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/gate',
      payload: { service: 'checkout', metadata: { token: TOKENS.gate } },
    });
    expect([401, 403]).not.toContain(withToken.statusCode);
    const wrong = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/gate',
      payload: { service: 'checkout', metadata: { token: TOKENS.read } },
    });
    expect(wrong.statusCode).toBe(403);
  });

  it('keeps health public', async () => {
    expect((await ctx.app.inject('/healthz')).statusCode).toBe(200);
  });
});

describe('public areas and open mode', () => {
  it('opens /metrics and the dashboard only when configured public', async () => {
    const ctx = await testApp({ auth: auth(['metrics', 'dashboard']) });
    await ctx.app.ready();
    const open = ctx.app.routeTable.filter((r) => r.access === 'metrics' || r.access === 'dashboard');
    for (const route of open) {
      const response = await ctx.app.inject({
        method: route.method as 'GET',
        url: route.url.replace(/:[^/]+/g, 'x'),
      });
      expect([401, 403]).not.toContain(response.statusCode);
    }
    expect((await ctx.app.inject('/api/v1/slos')).statusCode).toBe(401);
    await ctx.close();
  });

  it('is open on loopback without tokens', async () => {
    const ctx = await testApp();
    expect((await ctx.app.inject('/api/v1/slos')).statusCode).toBe(200);
    await ctx.close();
  });

  it('refuses to listen beyond loopback without tokens', () => {
    expect(() => loadConfig({ SLOGUARD_HOST: '0.0.0.0' })).toThrowError(ConfigError);
    expect(() => loadConfig({ SLOGUARD_HOST: '0.0.0.0' })).toThrowError(/^SLOGUARD_HOST: refusing to listen/);
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('10.1.2.3')).toBe(false);
    expect(isLoopback('::')).toBe(false);
  });

  it('reads tokens from sloguard.yaml, hashed, and allows a non-loopback host with them', () => {
    const dir = tempDir();
    const file = dir.file(
      'sloguard.yaml',
      `auth:\n  tokens:\n    - { name: ci, token: "env:CI_GATE_TOKEN", scopes: [gate] }\n    - { name: ops, sha256: "${tokenDigest('x'.repeat(20)).toString('hex')}", scopes: [admin] }\n`,
    );
    const config = loadConfig({
      SLOGUARD_CONFIG: file,
      SLOGUARD_HOST: '0.0.0.0',
      CI_GATE_TOKEN: 'y'.repeat(24),
    });
    expect(config.auth.tokens.map((t) => t.name)).toEqual(['ci', 'ops']);
    expect(config.auth.tokens[0]!.digest.equals(tokenDigest('y'.repeat(24)))).toBe(true);
    expect(JSON.stringify(config)).not.toContain('y'.repeat(24));
    expect(() => loadConfig({ SLOGUARD_CONFIG: file })).toThrowError(
      /auth\.tokens\.0\.token: variable CI_GATE_TOKEN/,
    );
    dir.cleanup();
  });
});
