import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATE_DEFINITIONS, webLines } from '../helpers/gateFixtures.js';
import { engineSlo, HeldEngine } from '../helpers/heldEngine.js';
import { SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Start-up (issue #23): a restarted service answers the gate from the statuses the last run stored, marked as
 * such, while its first evaluation is held up (here by a Prometheus source that does not answer); once that
 * evaluation ends, the answers are fresh. Freezes and overrides work on the last run's statuses.
 */
let engine: HeldEngine;
let service: SloguardProcess | undefined;
const dir = tempDir('sloguard-startup-');

beforeAll(async () => {
  engine = await HeldEngine.start();
  dir.file(
    'slos.yaml',
    `${GATE_DEFINITIONS}---
${engineSlo(engine.url, '60s')}`,
  );
});

afterAll(async () => {
  await service?.cleanup();
  await engine.stop();
  dir.cleanup();
});

interface Answer {
  decision: string;
  reason: string;
  frozen: boolean;
  stale: boolean;
  from_last_run: boolean;
  evaluated_at: string;
  override: { id: string } | null;
}

const gate = async (environment: string, changeType = 'feature') =>
  (
    await service!.json<Answer>(
      `/api/v1/gate?service=web&environment=${environment}&change_type=${changeType}`,
    )
  ).body;

async function send(good: number, bad: number): Promise<number> {
  const response = await fetch(`${service!.url}/api/v1/ingest/lb?format=nginx&service=web`, {
    method: 'POST',
    body: webLines(good, bad),
  });
  expect(response.status).toBe(202);
  const valid = good + bad;
  const { body } = await service!.json<{ valid: number }>('/api/v1/slos/web-availability');
  return waitFor(`web-availability evaluated over ${valid} more requests`, async () => {
    const now = (await service!.json<{ valid: number }>('/api/v1/slos/web-availability')).body.valid;
    return now >= body.valid + valid && now;
  });
}

describe('a restart with a slow first evaluation', () => {
  it('answers from the last run statuses, marked, keeps the freeze, then answers fresh', async () => {
    service = await SloguardProcess.start({ definitions: dir.path });
    // Exhausted, then 1 bad of 1,100: 9.1% of the budget left. Frozen, the gate stays shut (margin 10%).
    await send(99, 1);
    expect(await gate('production')).toMatchObject({ decision: 'deny', frozen: true, from_last_run: false });
    await send(1000, 0);
    const before = await gate('production');
    expect(before).toMatchObject({ decision: 'deny', frozen: true, stale: false, from_last_run: false });
    expect(before.reason).toContain('must exceed the recovery margin 10%');
    await service.stop();

    engine.hold();
    await service.restart('ready');
    expect((await service.json('/readyz')).body).toMatchObject({ status: 'ready', statuses: 'last_run' });
    await waitFor('the first evaluation to ask the engine', () => engine.heldQueries > 0);
    const stored = await gate('production');
    expect(stored).toMatchObject({ decision: 'deny', frozen: true, stale: true, from_last_run: true });
    expect(stored.reason).toContain('must exceed the recovery margin 10%');
    expect(stored.reason).toContain(`statuses from the last run at ${stored.evaluated_at}`);
    // Observe mode and exemptions work on them too.
    expect(await gate('staging')).toMatchObject({ decision: 'allow', from_last_run: true });
    expect(await gate('production', 'rollback')).toMatchObject({ decision: 'allow', from_last_run: true });
    // An override lets a release through.
    const created = await fetch(`${service.url}/api/v1/gate/overrides`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'web',
        environment: 'production',
        reason: 'fix for INC-7',
        ticket: 'INC-7',
        expires_in: '1h',
      }),
    });
    expect(created.status).toBe(201);
    const overridden = await gate('production');
    expect(overridden).toMatchObject({ decision: 'allow', from_last_run: true });
    expect(overridden.override).not.toBeNull();
    expect((await service.json('/readyz')).body).toMatchObject({ statuses: 'last_run' });

    engine.release();
    await waitFor('the first evaluation', async () => {
      const { body } = await service!.json<{ statuses: string }>('/readyz');
      return body.statuses === 'evaluated';
    });
    const fresh = await gate('production');
    expect(fresh).toMatchObject({ decision: 'allow', frozen: true, stale: false, from_last_run: false });
    expect(fresh.reason).toContain('must exceed the recovery margin 10%');
    expect(fresh.reason).not.toContain('last run');
  });
});
