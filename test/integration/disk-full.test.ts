import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { nginxLine } from '../helpers/app.js';
import { SloguardProcess } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

const LINES = 20;
const TMPFS_SIZE = '6m';

/** LINES requests of one new service each time: every batch adds series rows, so the store keeps growing. */
function payload(): string {
  const t = Date.now() - 5_000;
  return Array.from({ length: LINES }, (_, i) => nginxLine(t, 'GET', `/item/${i}`, 200, 0.01)).join('\n');
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
}

/** Writes zeros into `path` until the file system is full (ENOSPC). */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let i = 0; i < 100_000; i++) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

describe('disk full on a small tmpfs', () => {
  it('refuses ingest with 503 while full, resumes without a restart, counts every acknowledged line once', async () => {
    const mount = mkdtempSync(join(tmpdir(), 'sloguard-full-'));
    run('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', mount]);
    let service: SloguardProcess | undefined;
    try {
      service = await SloguardProcess.start({ databasePath: join(mount, 'sloguard.db') });
      const post = (sequence: number) =>
        fetch(`${service!.url}/api/v1/ingest/lb?format=nginx&service=svc-${sequence}`, {
          method: 'POST',
          body: payload(),
        });
      let acknowledged = 0;
      for (let sequence = 0; sequence < 20; sequence++) {
        expect((await post(sequence)).status).toBe(202);
        acknowledged += LINES;
      }
      fill(join(mount, 'filler'));

      // Every batch is a new service (new series rows) until the store has no room left.
      const refused: number[] = [];
      let sequence = 20;
      for (; sequence < 3_000 && refused.length < 3; sequence++) {
        const response = await post(sequence);
        if (response.status === 202) {
          acknowledged += ((await response.json()) as { accepted: number }).accepted;
          continue;
        }
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(await response.json()).toMatchObject({ error: 'storage_unavailable' });
        refused.push(sequence);
      }
      expect(refused.length).toBe(3);
      const gate = await fetch(
        `${service.url}/api/v1/gate?service=checkout&environment=production&version=v1`,
      );
      expect([200, 423]).toContain(gate.status);

      rmSync(join(mount, 'filler'));
      // The refused batches again (their series rows were rolled back), then new ones: no restart.
      for (const again of [...refused, sequence, sequence + 1]) {
        const response = await waitFor(`batch ${again} accepted`, async () => {
          const answer = await post(again);
          return answer.status === 202 && answer;
        });
        acknowledged += ((await response.json()) as { accepted: number }).accepted;
      }
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      await service.stop();

      const db = new Database(join(mount, 'sloguard.db'), { readonly: true });
      try {
        const { total } = db.prepare('SELECT sum(total) AS total FROM minute_buckets').get() as {
          total: number;
        };
        expect(total).toBe(acknowledged);
      } finally {
        db.close();
      }
    } finally {
      await service?.cleanup();
      run('umount', ['-l', mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  }, 120_000);
});
