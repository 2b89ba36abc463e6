import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tokenDigest } from '../../src/config/auth.js';
import { gateApp, INGEST_TOKEN } from '../helpers/gateFixtures.js';

let ctx: Awaited<ReturnType<typeof gateApp>>;
afterEach(async () => {
  await ctx.close();
});

/** Flagger's webhook client: any status above 202 is a failed check (pkg/controller/webhook.go). */
const flaggerPasses = (status: number) => status <= 202;

/** Argo Rollouts' web metric: non-2xx is an error; the value is the jsonPath `{$.decision}` of the body. */
function argoMeasure(status: number, body: unknown, jsonPath: string) {
  if (status < 200 || status >= 300) return { phase: 'Error' as const };
  const path = /^\{\$\.(.+)\}$/.exec(jsonPath)![1]!.split('.');
  const result = path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], body);
  return { phase: 'Measured' as const, result };
}

describe('Flagger canary webhook', () => {
  const TOKEN = 'flagger-token-0123456789';
  beforeEach(async () => {
    ctx = await gateApp({
      auth: {
        tokens: [
          { name: 'flagger', digest: tokenDigest(TOKEN), scopes: ['gate'] },
          { name: 'ingester', digest: tokenDigest(INGEST_TOKEN), scopes: ['ingest'] },
        ],
        public: [],
      },
    });
  });

  const webhook = (phase: string, checksum: string, metadata: Record<string, string>) =>
    ctx.app.inject({
      method: 'POST',
      url: '/api/v1/gate',
      headers: { 'content-type': 'application/json' },
      // Exactly what Flagger sends: CanaryWebhookPayload, token only in metadata (it cannot set headers).
      payload: JSON.stringify({ name: 'web', namespace: 'production', phase, checksum, metadata }),
    });

  it('passes a healthy canary and fails it (> 202) once the budget is gone; the token in metadata is never stored', async () => {
    await ctx.traffic(1000, 0);
    const ok = await webhook('Progressing', 'c0ffee01', { token: TOKEN });
    expect(flaggerPasses(ok.statusCode)).toBe(true);
    expect(ok.json()).toMatchObject({ decision: 'allow', service: 'web', environment: 'production' });

    await ctx.traffic(0, 50);
    const frozen = await webhook('Progressing', 'c0ffee01', { token: TOKEN });
    expect(frozen.statusCode).toBe(423);
    expect(flaggerPasses(frozen.statusCode)).toBe(false);

    const noToken = await webhook('Progressing', 'c0ffee01', {});
    expect(noToken.statusCode).toBe(401);
    expect(flaggerPasses(noToken.statusCode)).toBe(false);

    const audit = await ctx.sloguard.decisions.list({ service: 'web', limit: 10 });
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
    expect(audit[0]!.request).toMatchObject({ checksum: 'c0ffee01', environment: 'production' });
  });

  it('maps metadata.service and metadata.environment over name and namespace, and recognises repeats by checksum', async () => {
    await ctx.traffic(1000, 0);
    const meta = { token: TOKEN, service: 'web', environment: 'staging', change_type: 'config' };
    for (let i = 0; i < 3; i++) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/gate',
        payload: {
          name: 'web-canary',
          namespace: 'apps',
          phase: 'Progressing',
          checksum: 'abc123',
          metadata: meta,
        },
      });
      expect(response.json()).toMatchObject({
        service: 'web',
        environment: 'staging',
        change_type: 'config',
      });
    }
    const markers = ctx.sloguard.deployments.list({ service: 'web', limit: 10 });
    expect(markers).toEqual([
      expect.objectContaining({ version: 'abc123', environment: 'staging', source: 'gate' }),
    ]);
  });
});

describe('Argo Rollouts web metric', () => {
  beforeEach(async () => {
    ctx = await gateApp();
  });

  it('reads {$.decision} from a 200 body whatever the decision, with ?codes=body', async () => {
    await ctx.traffic(1000, 0);
    const url = '/api/v1/gate?service=web&environment=production&codes=body';
    const allow = await ctx.app.inject(url);
    const measured = argoMeasure(allow.statusCode, allow.json(), '{$.decision}');
    expect(measured).toEqual({ phase: 'Measured', result: 'allow' });
    // successCondition: result == "allow" || result == "warn"
    expect(['allow', 'warn']).toContain(measured.result);

    await ctx.traffic(0, 50);
    const deny = await ctx.app.inject(url);
    const failed = argoMeasure(deny.statusCode, deny.json(), '{$.decision}');
    expect(failed).toEqual({ phase: 'Measured', result: 'deny' });
    expect(argoMeasure(deny.statusCode, deny.json(), '{$.allowed}')).toEqual({
      phase: 'Measured',
      result: false,
    });

    // Without ?codes=body Argo would see 423 as an error, not a measured failure: that is why the flag exists.
    const plain = await ctx.app.inject('/api/v1/gate?service=web&environment=production');
    expect(argoMeasure(plain.statusCode, plain.json(), '{$.decision}')).toEqual({ phase: 'Error' });
  });
});

describe('Spinnaker webhook stage with waitForCompletion', () => {
  beforeEach(async () => {
    ctx = await gateApp();
  });

  /** Orca: statusUrlResolution locationHeader, statusJsonPath $.status, success/terminal status strings. */
  async function spinnakerStage(body: Record<string, string>, onPoll: (poll: number) => Promise<void>) {
    const started = await ctx.app.inject({ method: 'POST', url: '/api/v1/gate/evaluations', payload: body });
    expect(started.statusCode).toBe(202);
    const statusUrl = new URL(started.headers.location as string);
    expect(statusUrl.pathname).toMatch(/^\/api\/v1\/gate\/evaluations\/[\w-]+$/);
    const seen: string[] = [];
    for (let poll = 0; poll < 10; poll++) {
      const response = await ctx.app.inject(statusUrl.pathname);
      expect(response.statusCode).toBe(200);
      const status = response.json().status as string;
      seen.push(status);
      if (status === 'SUCCEEDED' || status === 'TERMINAL') return { seen, final: response.json() };
      expect(status).toBe('RUNNING');
      await onPoll(poll);
    }
    return { seen, final: undefined };
  }

  it('keeps RUNNING while the gate denies and SUCCEEDS once an override lets the release through', async () => {
    await ctx.traffic(100, 50);
    const { seen, final } = await spinnakerStage(
      { service: 'web', environment: 'production', sha: 'f00d', wait: '1h' },
      async (poll) => {
        if (poll !== 1) return;
        const granted = await ctx.app.inject({
          method: 'POST',
          url: '/api/v1/gate/overrides',
          payload: {
            service: 'web',
            environment: 'production',
            reason: 'fix',
            ticket: 'INC-1',
            expires_in: '1h',
          },
        });
        expect(granted.statusCode).toBe(201);
      },
    );
    expect(seen).toEqual(['RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(final).toMatchObject({ status: 'SUCCEEDED', decision: 'allow', allowed: true });
    expect(final.answer.override).toMatchObject({ ticket: 'INC-1' });
  });

  it('is TERMINAL at once for a deny without a wait, and SUCCEEDED at once for an allow', async () => {
    await ctx.traffic(100, 50);
    const denied = await spinnakerStage({ service: 'web', environment: 'production' }, async () => {});
    expect(denied.seen).toEqual(['TERMINAL']);
    expect(denied.final).toMatchObject({ decision: 'deny', allowed: false });
    const exempt = await spinnakerStage(
      { service: 'web', environment: 'production', change_type: 'rollback' },
      async () => {},
    );
    expect(exempt.seen).toEqual(['SUCCEEDED']);
    expect(exempt.final.answer.exemption).toBe('rollback');
  });

  it('names a bad wait and an unknown evaluation in the error shape', async () => {
    const bad = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/gate/evaluations',
      payload: { service: 'web', wait: 'forever' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'invalid_request', field: 'wait' });
    const missing = await ctx.app.inject('/api/v1/gate/evaluations/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found', field: 'id' });
  });
});
