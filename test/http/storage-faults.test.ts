import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { gateApp, webLines } from '../helpers/gateFixtures.js';
import { waitFor } from '../helpers/wait.js';

let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const ingest = (payload: string, service = 'web') =>
  ctx!.app.inject({ method: 'POST', url: `/api/v1/ingest/lb?format=nginx&service=${service}`, payload });

describe('storage faults over HTTP', () => {
  it('answers 413 with how to split a batch larger than the write queue bound, never a retryable 503', async () => {
    ctx = await gateApp({ maxQueuedObservations: 1000 });
    const response = await ingest(webLines(1001, 0));
    expect(response.statusCode).toBe(413);
    expect(response.headers['retry-after']).toBeUndefined();
    expect(response.json()).toMatchObject({
      error: 'batch_too_large',
      field: 'body',
      message: expect.stringContaining('split it into requests of at most 1000'),
    });
    expect((await ingest(webLines(1000, 0))).statusCode).toBe(202);
  });

  it('answers the gate by its on_no_data policy and ingest with 503 + Retry-After while the database is full', async () => {
    ctx = await gateApp();
    await ctx.traffic(100, 0);
    const db = ctx.sloguard.db;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    const answers = new Map<number, Record<string, unknown>>();
    for (let i = 0; i < 400 && !answers.has(423); i++) {
      const response = await ctx.app.inject(`/api/v1/gate?service=web&environment=production&version=v${i}`);
      answers.set(response.statusCode, response.json());
    }
    // Production's on_no_data is deny: a decision that cannot be recorded is a deny, not a 500.
    expect([...answers.keys()].sort()).toEqual([200, 423]);
    expect(answers.get(423)).toMatchObject({
      decision: 'deny',
      reason: expect.stringContaining('cannot be recorded (database or disk is full) (on_no_data: deny)'),
    });
    const staging = await ctx.app.inject('/api/v1/gate?service=web&environment=staging&version=x');
    expect(staging.statusCode).toBe(200);
    let refused: Awaited<ReturnType<typeof ingest>> | undefined;
    for (let i = 0; i < 1000 && refused === undefined; i++) {
      const response = await ingest(webLines(50, 0, Date.now() - 60_000 * (i + 2)), `other-${i}`);
      if (response.statusCode !== 202) refused = response;
    }
    expect(refused?.statusCode).toBe(503);
    expect(refused?.headers['retry-after']).toBe('5');
    expect(refused?.json()).toMatchObject({ error: 'storage_unavailable' });
    db.pragma('max_page_count = 1073741823');
    expect((await ingest(webLines(10, 0))).statusCode).toBe(202);
  });

  it('stops being ready and refuses ingest once the database file is deleted under it', async () => {
    ctx = await gateApp();
    expect((await ingest(webLines(10, 0))).statusCode).toBe(202);
    rmSync(ctx.sloguard.config.databasePath);
    const readyz = await waitFor('readyz to fail', async () => {
      const response = await ctx!.app.inject('/readyz');
      return response.statusCode === 503 && response;
    });
    expect(readyz.json()).toMatchObject({
      status: 'storage_lost',
      reason: expect.stringContaining('deleted'),
    });
    const response = await ingest(webLines(10, 0));
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      error: 'storage_unavailable',
      message: expect.stringContaining('deleted or replaced'),
    });
  });
});
