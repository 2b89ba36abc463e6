import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tidyNumbers } from '../../src/evaluate/numbers.js';
import { nginxLine, testApp } from '../helpers/app.js';

let ctx: Awaited<ReturnType<typeof testApp>>;
beforeEach(async () => {
  ctx = await testApp({ maxBodyBytes: 64 * 1024 });
});
afterEach(async () => {
  await ctx.close();
});

const now = () => Date.now() - 1_000;
const ingest = (query: string, payload: string | Buffer, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: `/api/v1/ingest/lb?${query}`, payload, headers });
/** Ingests many nginx lines for a service in bodies under the test's 64 KiB limit. */
async function ingestMany(service: string, lines: string[]) {
  for (let start = 0; start < lines.length; start += 500) {
    const response = await ingest(
      `format=nginx&service=${service}`,
      lines.slice(start, start + 500).join('\n'),
    );
    expect(response.json()).toMatchObject({ accepted: Math.min(500, lines.length - start), rejected: 0 });
  }
}

describe('ingest API', () => {
  it('keeps the good lines of a batch and reports the bad ones by line number', async () => {
    const t = now();
    const body = [
      nginxLine(t, 'GET', '/profile/1', 200, 0.1),
      'garbage',
      nginxLine(t, 'GET', '/profile/2?tab=x', 503, 0.2),
      '',
      '127.0.0.1 - - [23/Nov/2026:10:00:00 +0000] "" 400 0 "-" "-" 0.000',
    ].join('\n');
    const response = await ingest('format=nginx&service=user-profile', body, {
      'content-type': 'text/plain',
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({
      accepted: 2,
      rejected: 1,
      skipped: 1,
      reasons: { invalid_line: 1 },
      problems: [
        { line: 2, reason: 'not an nginx combined line ([time] "request" status bytes ...)' },
        { line: 5, reason: 'empty request line (the client sent no request)' },
      ],
    });
    const [status] = ctx.sloguard.evaluator.evaluateAll().filter((s) => s.name === 'profile-availability');
    // One 503 of two requests is too few to judge a 99.95% budget (it needs 2,000 to allow one bad event).
    expect(status).toMatchObject({ good: 1, valid: 2, state: 'insufficient-data', minValidEvents: 2000 });
  });

  it('accepts gzip bodies and any content type (curl --data-binary sends form encoding)', async () => {
    const line = nginxLine(now(), 'GET', '/profile/9', 200, 0.05);
    const gzipped = await ingest('format=nginx&service=user-profile', gzipSync(`${line}\n`), {
      'content-encoding': 'gzip',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(gzipped.json()).toMatchObject({ accepted: 1, rejected: 0 });
    const badGzip = await ingest('format=nginx&service=user-profile', 'not gzip', {
      'content-encoding': 'gzip',
    });
    expect(badGzip.statusCode).toBe(400);
    expect(badGzip.json()).toMatchObject({ error: 'invalid_gzip' });
  });

  it('names the allowed formats for an unknown one', async () => {
    const response = await ingest('format=apache&service=x', 'line');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: 'invalid_query',
      message: expect.stringMatching(/unknown format "apache"; allowed: .*nginx/),
      field: 'format',
    });
  });

  it('refuses names an object inherits as formats and sources, storing nothing', async () => {
    for (const format of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const response = await ingest(`format=${format}&service=x`, nginxLine(now(), 'GET', '/', 200, 0.01));
      expect(response.statusCode, format).toBe(400);
      expect(response.json(), format).toMatchObject({ error: 'invalid_query', field: 'format' });
    }
    for (const source of ['constructor', '__proto__', 'toString']) {
      const response = await ingest(`format=nginx&source=${source}`, nginxLine(now(), 'GET', '/', 200, 0.01));
      expect(response.statusCode, source).toBe(400);
      expect(response.json(), source).toMatchObject({ error: 'invalid_query', field: 'service' });
    }
    const stored = new Database(ctx.sloguard.config.databasePath, { readonly: true });
    expect(stored.prepare('SELECT count(*) AS n FROM series').get()).toEqual({ n: 0 });
    stored.close();
  });

  it('asks for a service when neither the request nor the config names one', async () => {
    const response = await ingest('format=nginx&source=unmapped', nginxLine(now(), 'GET', '/', 200, 0.1));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_query', field: 'service' });
  });

  it('answers 413 for an oversized body, and 413 for a gzip bomb', async () => {
    const big = await ingest('format=nginx&service=user-profile', 'x'.repeat(65 * 1024));
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ error: 'body_too_large' });
    const bomb = await ingest('format=nginx&service=user-profile', gzipSync(Buffer.alloc(10 * 1024 * 1024)), {
      'content-encoding': 'gzip',
    });
    expect(bomb.statusCode).toBe(413);
    expect(bomb.json()).toMatchObject({ error: 'body_too_large' });
  });

  it('requires format', async () => {
    const response = await ingest('service=user-profile', 'x');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_request', field: 'querystring.format' });
  });
});

describe('SLO and gate API', () => {
  it('reports an SLO with its counts, budget, burn rates and tiers', async () => {
    const t = now();
    const lines = Array.from({ length: 2000 }, (_, i) =>
      nginxLine(t, 'GET', `/profile/${i}`, i < 2 ? 500 : 200, 0.1),
    );
    for (let start = 0; start < lines.length; start += 500) {
      const response = await ingest(
        'format=nginx&service=user-profile',
        lines.slice(start, start + 500).join('\n'),
      );
      expect(response.json()).toMatchObject({ accepted: 500, rejected: 0 });
    }
    ctx.sloguard.evaluator.evaluateAll();
    const response = await ctx.app.inject('/api/v1/slos/profile-availability');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      name: 'profile-availability',
      service: 'user-profile',
      objective: 0.9995,
      window: '28d',
      good: 1998,
      valid: 2000,
      sli: 0.999,
      state: 'exhausted',
      stale: false,
      budget: { allowed: 1, consumed: 2, consumed_ratio: 2, remaining_ratio: -1 },
    });
    expect(body.burn_rates['5m']).toBeCloseTo(2, 9);
    expect(body.alerts).toHaveLength(4);
    expect(new Date(body.evaluated_at).getTime()).toBeGreaterThan(t - 60_000);
    const missing = await ctx.app.inject('/api/v1/slos/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found', field: 'name' });
  });

  it('denies with 423 for an exhausted budget, allows a healthy service, records both', async () => {
    const t = now();
    // Enough events to judge each budget: 2 failures of 2,000 spend a 99.95% budget twice over; checkout
    // has 1,000 clean requests (99.9%), 100 of them orders (99% latency).
    await ingestMany(
      'user-profile',
      Array.from({ length: 2000 }, (_, i) => nginxLine(t, 'GET', '/profile/1', i < 2 ? 503 : 200, 0.1)),
    );
    await ingestMany(
      'checkout',
      Array.from({ length: 1000 }, (_, i) =>
        i < 100 ? nginxLine(t, 'POST', '/api/orders', 201, 0.2) : nginxLine(t, 'GET', '/api/cart', 200, 0.1),
      ),
    );
    ctx.sloguard.evaluator.evaluateAll();
    const deny = await ctx.app.inject('/api/v1/gate?service=user-profile&environment=production&sha=abc123');
    expect(deny.statusCode).toBe(423);
    expect(deny.json()).toMatchObject({
      allowed: false,
      decision: 'deny',
      mode: 'enforce',
      would_block: true,
      version: 'abc123',
      override: null,
      exemption: null,
      stale: false,
    });
    expect(deny.json().reason).toContain('profile-availability has exhausted its error budget');
    const allow = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/gate',
      payload: { service: 'checkout' },
    });
    expect(allow.statusCode).toBe(200);
    expect(allow.json()).toMatchObject({ allowed: true, decision: 'allow' });
    expect(allow.json().slos.map((s: { name: string }) => s.name)).toEqual([
      'checkout-availability',
      'checkout-submit-latency',
    ]);
    const asBody = await ctx.app.inject('/api/v1/gate?service=user-profile&codes=body');
    expect(asBody.statusCode).toBe(200);
    expect(asBody.json().decision).toBe('deny');
    const audit = await ctx.app.inject('/api/v1/gate/decisions?service=user-profile');
    const decisions = audit.json().decisions;
    expect(decisions).toHaveLength(2);
    expect(decisions.map((d: { decision_id: string }) => d.decision_id)).toContain(deny.json().decision_id);
  });

  it('commits each decision to the audit trail before answering', async () => {
    const reader = new Database(ctx.sloguard.config.databasePath, { readonly: true });
    const stored = () =>
      (reader.prepare('SELECT count(*) AS n FROM gate_decisions').get() as { n: number }).n;
    const before = stored();
    const answers = await Promise.all(
      ['checkout', 'user-profile', 'checkout'].map((service) =>
        ctx.app.inject(`/api/v1/gate?service=${service}`),
      ),
    );
    // Another connection sees every decision the moment the answers are out.
    expect(stored()).toBe(before + answers.length);
    reader.close();
  });

  it('stores the statuses decisions were based on once per evaluation, and lists each decision with them', async () => {
    const { db, evaluator } = ctx.sloguard;
    const storedInputs = () => (db.prepare('SELECT count(*) AS n FROM gate_inputs').get() as { n: number }).n;
    const ask = () => ctx.app.inject('/api/v1/gate?service=checkout');
    await Promise.all([ask(), ask()]);
    await ask();
    expect(storedInputs()).toBe(1);
    const reevaluated = evaluator.evaluateAll(Date.now() + 1000).filter((s) => s.service === 'checkout');
    await ask();
    expect(storedInputs()).toBe(2);
    // A decision stored before migration 6 carries its statuses in its answer (kept unkeyed by migration 18).
    db.prepare(
      `INSERT INTO gate_decisions_unkeyed (id, decided_at_ms, service, change_type, decision, reason, request, answer)
       VALUES ('old', 1, 'checkout', 'feature', 'allow', 'ok', '{}', '{"decision":"allow","statuses":[{"name":"kept"}]}')`,
    ).run();
    const audit = (await ctx.app.inject('/api/v1/gate/decisions?service=checkout')).json()
      .decisions as Array<{
      answer: { statuses: Array<{ name: string; evaluatedAtMs: number }> };
    }>;
    expect(audit).toHaveLength(5);
    const [newest, ...earlier] = audit;
    // As the API shows numbers: without float noise.
    expect(newest!.answer.statuses).toEqual(tidyNumbers(JSON.parse(JSON.stringify(reevaluated))));
    for (const decision of earlier.slice(0, 3)) {
      expect(decision.answer.statuses.map((s) => s.name)).toEqual([
        'checkout-availability',
        'checkout-submit-latency',
      ]);
      expect(decision.answer.statuses[0]!.evaluatedAtMs).toBeLessThan(
        newest!.answer.statuses[0]!.evaluatedAtMs,
      );
    }
    expect(audit[4]!.answer.statuses).toEqual([{ name: 'kept' }]);
  });

  it('cannot decide for a service without SLOs (503) and names bad fields (400)', async () => {
    const unknown = await ctx.app.inject('/api/v1/gate?service=nobody');
    expect(unknown.statusCode).toBe(503);
    expect(unknown.json()).toMatchObject({ decision: 'error', allowed: false });
    const noService = await ctx.app.inject('/api/v1/gate');
    expect(noService.statusCode).toBe(400);
    expect(noService.json()).toMatchObject({ error: 'invalid_request', field: 'service' });
    const badType = await ctx.app.inject('/api/v1/gate?service=checkout&change_type=yolo');
    expect(badType.statusCode).toBe(400);
    expect(badType.json()).toMatchObject({ field: 'change_type' });
    const badJson = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/gate',
      payload: '{"service":',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ error: 'invalid_json' });
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const response = await ctx.app.inject('/api/v1/nothing');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', message: 'no route GET /api/v1/nothing' });
  });
});
