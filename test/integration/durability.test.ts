import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxLine } from '../helpers/app.js';
import { CLI, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

const SLO = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: crash-availability, service: crash }
spec:
  indicator: { source: loadbalancer }
  objective: 99
  window: 28d
`;

const BATCH = 200;
const WORKERS = 2;

/** Unique lines for one batch; the status varies so errors are counted too. */
function batch(sequence: number): string {
  const t = Date.now() - 5_000;
  return Array.from({ length: BATCH }, (_, i) =>
    nginxLine(t, 'GET', `/item/${sequence * BATCH + i}`, (sequence * BATCH + i) % 97 === 0 ? 503 : 200, 0.01),
  ).join('\n');
}

interface ClientRun {
  acknowledged: number;
  sent: number;
}

/** Ingests at full speed with `WORKERS` keep-alive connections until `stopAfterMs`, counting 202s. */
async function ingestUntil(url: string, stopAfterMs: number, firstSequence: number): Promise<ClientRun> {
  const run: ClientRun = { acknowledged: 0, sent: 0 };
  const deadline = Date.now() + stopAfterMs;
  let sequence = firstSequence;
  const worker = async () => {
    while (Date.now() < deadline) {
      const body = batch(sequence++);
      run.sent += BATCH;
      try {
        const response = await fetch(`${url}/api/v1/ingest/lb?format=nginx&source=edge&service=crash`, {
          method: 'POST',
          body,
        });
        if (response.status === 202) run.acknowledged += BATCH;
        else await response.arrayBuffer();
      } catch {
        return; // the server died mid-request: that batch was not acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return run;
}

/** Kill delays between 150 and 750 ms from a seed (a linear congruential generator: enough to spread them). */
function killSchedule(seed: number, runs: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: runs }, () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return 150 + (state % 600);
  });
}

describe('durability', () => {
  const dir = tempDir();
  let service: SloguardProcess;
  beforeAll(async () => {
    dir.file('crash.yaml', SLO);
    service = await SloguardProcess.start({ definitions: dir.path });
  });
  afterAll(async () => {
    await service.cleanup();
    dir.cleanup();
  });

  const counted = async () =>
    (await service.json<{ valid: number }>('/api/v1/slos/crash-availability')).body.valid;

  it('SIGKILL at a random moment, 10 runs: every acknowledged observation counted, none twice', async () => {
    // Kill times come from a printed seed: DURABILITY_SEED=<seed> replays a failing schedule.
    const seed = Number(process.env.DURABILITY_SEED ?? Date.now() % 2_147_483_647);
    const killTimes = killSchedule(seed, 10);
    console.log(`durability: DURABILITY_SEED=${seed}, kills after ${killTimes.join(', ')} ms`);
    let acknowledged = 0;
    let sent = 0;
    for (let run = 0; run < 10; run++) {
      const killAfterMs = killTimes[run]!;
      const client = ingestUntil(service.url, 5_000, run * 100_000);
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      await service.stop('SIGKILL');
      const result = await client;
      acknowledged += result.acknowledged;
      sent += result.sent;
      await service.restart();
      // The restart waits for the first evaluation (not the last run's statuses), so this reads the restarted store.
      const total = await counted();
      expect(total, `run ${run}: acknowledged observations lost`).toBeGreaterThanOrEqual(acknowledged);
      // Only batches in flight at the kill may be committed unacknowledged, and only whole.
      const unacknowledged = total - acknowledged;
      expect(unacknowledged % BATCH, `run ${run}: a batch was partly counted`).toBe(0);
      expect(unacknowledged, `run ${run}: more than the in-flight batches`).toBeLessThanOrEqual(
        WORKERS * BATCH,
      );
      expect(total, `run ${run}: counted more than was sent`).toBeLessThanOrEqual(sent);
      acknowledged = total;
    }
    expect(acknowledged).toBeGreaterThan(10 * BATCH);
  }, 300_000);

  it('SIGTERM drains in-flight requests: each one either answered 202 and counted, or refused', async () => {
    const before = await counted();
    const client = ingestUntil(service.url, 3_000, 5_000_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await service.stop('SIGTERM');
    const result = await client;
    await service.restart();
    expect(await counted()).toBe(before + result.acknowledged);
  });
});

describe('a database file that is not ours', () => {
  it.each([
    [
      'corrupt',
      'this is not an SQLite file but it is long enough to have a header of sorts',
      /cannot open database/,
    ],
  ])('refuses to start on a %s file with a clear message', (_kind, content, message) => {
    const dir = tempDir();
    const database = join(dir.path, 'sloguard.db');
    writeFileSync(database, content);
    const result = spawnSync(process.execPath, [CLI, 'serve'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, SLOGUARD_DATABASE: database, SLOGUARD_PORT: '0' },
      timeout: 60_000,
    });
    dir.cleanup();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});
