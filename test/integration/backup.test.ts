import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { nginxLine } from '../helpers/app.js';
import { CLI, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** Lines per ingest request: every request commits whole, so a consistent copy holds a multiple of it. */
const BATCH = 250;

function runBackup(databasePath: string, file: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI, 'backup', file], {
    env: { PATH: process.env.PATH, SLOGUARD_DATABASE: databasePath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    out += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

/** Requests of the profile route in a database, and its gate decisions. */
function contents(path: string): { requests: number; decisions: string[] } {
  const db = new Database(path, { readonly: true });
  try {
    const requests = db
      .prepare(
        `SELECT coalesce(sum(b.total), 0) FROM minute_buckets b JOIN series s ON s.id = b.series_id
         WHERE s.service = 'user-profile'`,
      )
      .pluck()
      .get() as number;
    const decisions = db.prepare(`SELECT id FROM gate_decisions ORDER BY id`).pluck().all() as string[];
    return { requests, decisions };
  } finally {
    db.close();
  }
}

describe('sloguard backup', () => {
  const dir = tempDir('sloguard-backup-');
  afterAll(() => dir.cleanup());

  it('copies a database under full-speed ingest consistently; the copy restores with the same figures', async () => {
    const source = await SloguardProcess.start();
    let restored: SloguardProcess | undefined;
    try {
      let acknowledged = 0;
      let running = true;
      const body = `${Array.from({ length: BATCH }, (_, i) =>
        nginxLine(Date.now() - 1000, 'GET', `/profile/${i}`, i % 50 === 0 ? 500 : 200, 0.01),
      ).join('\n')}\n`;
      const ingestLoop = async () => {
        while (running) {
          const response = await fetch(`${source.url}/api/v1/ingest/lb?format=nginx&service=user-profile`, {
            method: 'POST',
            body,
          });
          expect(response.status).toBe(202);
          acknowledged += BATCH;
        }
      };
      const gateLoop = async () => {
        for (let i = 0; running && i < 300; i++)
          await fetch(`${source.url}/api/v1/gate?service=user-profile&sha=s${i}`);
      };
      const load = Promise.all([ingestLoop(), ingestLoop(), gateLoop()]);
      await waitFor('ingest under way', () => acknowledged >= 20 * BATCH);

      const file = join(dir.path, 'copy.db');
      const before = acknowledged;
      const backup = await runBackup(source.databasePath, file);
      const after = acknowledged;
      running = false;
      await load;

      expect(backup.code).toBe(0);
      expect(backup.out).toMatch(/^backed up .* to .*copy\.db \(\d+ pages, integrity ok\)/);
      // No torn copy: whole batches only, at least those acknowledged when it began, at most those by its end
      // and the two requests (one per loop) that may have been committed but not yet answered.
      const copy = contents(file);
      expect(copy.requests % BATCH).toBe(0);
      expect(copy.requests).toBeGreaterThanOrEqual(before);
      expect(copy.requests).toBeLessThanOrEqual(after + 2 * BATCH);
      expect(copy.decisions.length).toBeGreaterThan(0);
      // One self-contained file: nothing beside it to copy.
      expect(existsSync(`${file}-wal`)).toBe(false);

      // Restore: the copy becomes a stopped service's database, which then starts on it.
      const restoreDir = tempDir('sloguard-restore-');
      const restoredPath = join(restoreDir.path, 'sloguard.db');
      copyFileSync(file, restoredPath);
      restored = await SloguardProcess.start({ databasePath: restoredPath, definitions: source.definitions });
      const { body: status } = await restored.json<{ valid: number }>('/api/v1/slos/profile-availability');
      expect(status.valid).toBe(copy.requests);
      const { body: audit } = await restored.json<{ decisions: Array<{ decision_id: string }> }>(
        '/api/v1/gate/decisions?service=user-profile&limit=1000',
      );
      expect(audit.decisions.map((d) => d.decision_id).sort()).toEqual([...copy.decisions].sort());
      await restored.cleanup();
      restoreDir.cleanup();
    } finally {
      await restored?.cleanup();
      await source.cleanup();
    }
  }, 120_000);
});
