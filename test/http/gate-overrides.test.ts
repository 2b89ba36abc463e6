import { afterEach, describe, expect, it } from 'vitest';
import { tokenDigest } from '../../src/config/auth.js';
import type { GateOverride } from '../../src/store/gateOverrides.js';
import { gateApp, INGEST_TOKEN } from '../helpers/gateFixtures.js';

let ctx: Awaited<ReturnType<typeof gateApp>>;
afterEach(async () => {
  await ctx.close();
});

const ADMIN = 'alice-admin-token-0123';
const CI = 'ci-gate-token-0123456789';
const auth = {
  tokens: [
    { name: 'alice', digest: tokenDigest(ADMIN), scopes: ['admin' as const] },
    { name: 'ci', digest: tokenDigest(CI), scopes: ['gate' as const] },
    { name: 'ingester', digest: tokenDigest(INGEST_TOKEN), scopes: ['ingest' as const] },
  ],
  public: [],
};
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const grant = (payload: Record<string, unknown>, token = ADMIN) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/gate/overrides', payload, headers: as(token) });
const ask = (query: string) => ctx.app.inject({ url: `/api/v1/gate?service=web&${query}`, headers: as(CI) });
const scope = { service: 'web', environment: 'production', reason: 'hotfix for INC-9', ticket: 'INC-9' };

describe('break-glass overrides', () => {
  it('lets a frozen release through, says so in the decision, and tells listeners once', async () => {
    ctx = await gateApp({ auth });
    const created: GateOverride[] = [];
    ctx.sloguard.gate.on('override-created', (override) => created.push(override));
    await ctx.traffic(100, 20);
    expect((await ask('environment=production&sha=a1')).statusCode).toBe(423);

    const granted = await grant({ ...scope, sha: 'a1', expires_in: '2h' });
    expect(granted.statusCode).toBe(201);
    expect(granted.json()).toMatchObject({ ...scope, sha: 'a1', actor: 'alice', active: true });
    expect(granted.headers.location).toBe(`/api/v1/gate/overrides/${granted.json().id}`);
    expect(created).toEqual([
      expect.objectContaining({ id: granted.json().id, actor: 'alice', ticket: 'INC-9' }),
    ]);

    const through = await ask('environment=production&sha=a1');
    expect(through.statusCode).toBe(200);
    expect(through.json()).toMatchObject({
      decision: 'allow',
      would_block: true,
      override: { id: granted.json().id, actor: 'alice', ticket: 'INC-9', reason: 'hotfix for INC-9' },
    });
    expect(through.json().reason).toMatch(
      /^override .* by alice \(INC-9: hotfix for INC-9\) lets this through/,
    );
    // Scoped to its sha and its environment.
    expect((await ask('environment=production&sha=b2')).statusCode).toBe(423);
    expect((await ask('environment=canary&sha=a1')).statusCode).toBe(423);
    const audit = await ctx.sloguard.decisions.list({ service: 'web', limit: 10 });
    expect(audit.find((d) => d.id === through.json().decision_id)?.answer).toMatchObject({
      override: { id: granted.json().id },
    });
  });

  it('is listed, revocable by DELETE or POST .../revoke, and a revoked override no longer counts', async () => {
    ctx = await gateApp({ auth });
    await ctx.traffic(100, 20);
    const id = (await grant({ ...scope, expires_in: '30m' })).json().id;
    const list = await ctx.app.inject({
      url: '/api/v1/gate/overrides?service=web&active=true',
      headers: as(ADMIN),
    });
    expect(list.json().overrides.map((o: { id: string }) => o.id)).toEqual([id]);
    expect((await ask('environment=production')).json().decision).toBe('allow');

    const revoked = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/v1/gate/overrides/${id}`,
      headers: as(ADMIN),
    });
    expect(revoked.json()).toMatchObject({ id, active: false, revoked_by: 'alice' });
    expect((await ask('environment=production')).statusCode).toBe(423);
    const again = await ctx.app.inject({
      method: 'POST',
      url: `/api/v1/gate/overrides/${id}/revoke`,
      headers: as(ADMIN),
    });
    expect(again.json()).toMatchObject({ id, revoked_by: 'alice' });
    const active = await ctx.app.inject({ url: '/api/v1/gate/overrides?active=true', headers: as(ADMIN) });
    expect(active.json().overrides).toEqual([]);
    const unknown = await ctx.app.inject({
      method: 'DELETE',
      url: '/api/v1/gate/overrides/nope',
      headers: as(ADMIN),
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('needs the admin scope, an expiry of at most 4h, a reason and a ticket', async () => {
    ctx = await gateApp({ auth });
    expect((await grant({ ...scope, expires_in: '1h' }, CI)).statusCode).toBe(403);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...scope, expires_in: '5h' }, 'expires_in'],
      [{ ...scope, expires_at: new Date(Date.now() + 5 * 3_600_000).toISOString() }, 'expires_at'],
      [{ ...scope, expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
      [{ ...scope, expires_in: 'soon' }, 'expires_in'],
      [{ ...scope }, 'expires_in'],
      [{ ...scope, service: 'nobody', expires_in: '1h' }, 'service'],
      [{ service: 'web', environment: 'production', reason: 'x', expires_in: '1h' }, 'body.ticket'],
    ];
    for (const [payload, field] of cases) {
      const response = await grant(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({ error: 'invalid_request', field });
    }
    expect(await ctx.sloguard.overrides.list({})).toEqual([]);
  });

  it('takes the actor from X-Sloguard-Actor when the service runs open', async () => {
    ctx = await gateApp();
    const named = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/gate/overrides',
      payload: { ...scope, expires_in: '1h' },
      headers: { 'x-sloguard-actor': 'bob' },
    });
    expect(named.json().actor).toBe('bob');
    const anonymous = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/gate/overrides',
      payload: { ...scope, expires_in: '1h' },
    });
    expect(anonymous.json().actor).toBe('anonymous');
  });
});
