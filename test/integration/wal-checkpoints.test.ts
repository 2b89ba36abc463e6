import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Checkpointer from '../../src/store/checkpointer.js';
import type * as Database from '../../src/store/database.js';
import { ensureBuilt, ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** The build's modules: the checkpointing thread loads compiled files only. */
async function built() {
  ensureBuilt();
  const load = async <T>(path: string) => (await import(pathToFileURL(join(ROOT, 'dist', path)).href)) as T;
  return {
    openDatabase: (await load<typeof Database>('store/database.js')).openDatabase,
    WalCheckpointer: (await load<typeof Checkpointer>('store/checkpointer.js')).WalCheckpointer,
  };
}

/**
 * Frames in the WAL and frames already copied into the database, from the wal-index (the -shm file):
 * mxFrame at byte 16 of the header, nBackfill right after its two 48-byte copies (SQLite's wal.c).
 */
function walProgress(path: string): { frames: number; copied: number } {
  const index = readFileSync(`${path}-shm`);
  return { frames: index.readUInt32LE(16), copied: index.readUInt32LE(96) };
}

const dir = tempDir('sloguard-wal-');
afterAll(() => dir.cleanup());
let modules: Awaited<ReturnType<typeof built>>;
beforeAll(async () => {
  modules = await built();
});

function filled(name: string) {
  const path = join(dir.path, name);
  const db = modules.openDatabase(path);
  db.exec('CREATE TABLE filler (payload BLOB)');
  return { path, db, insert: db.prepare('INSERT INTO filler (payload) VALUES (?)') };
}

describe('WAL checkpoints on their own thread', () => {
  it('copy the WAL into the database before the service connection reaches its own checkpoint', async () => {
    const threaded = filled('threaded.db');
    const alone = filled('alone.db');
    const checkpointer = modules.WalCheckpointer.start(threaded.db, threaded.path, (error) => {
      throw error;
    });
    expect(checkpointer).toBeDefined();
    try {
      // 100 commits of ~2 pages: far below the 1,000 pages at which a connection checkpoints itself.
      expect(threaded.db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
      const payload = Buffer.alloc(5_000, 7);
      for (let commit = 0; commit < 100; commit++) {
        threaded.insert.run(payload);
        alone.insert.run(payload);
      }
      await waitFor('WAL copied by the thread', () => {
        const { frames, copied } = walProgress(threaded.path);
        return frames > 100 && copied === frames;
      });
      const { frames, copied } = walProgress(alone.path);
      expect(frames).toBeGreaterThan(100);
      expect(copied).toBe(0);
    } finally {
      await checkpointer?.stop();
      threaded.db.close();
      alone.db.close();
    }
  });

  it('keep the WAL small under a stream of commits', async () => {
    const { path, db, insert } = filled('stream.db');
    const checkpointer = modules.WalCheckpointer.start(db, path, (error) => {
      throw error;
    });
    try {
      // 120 MB in 600 commits over 6 s or more: without checkpoints the WAL would hold all of it; the
      // service connection starts it over past 10,000 pages (40 MB).
      const payload = Buffer.alloc(200_000, 7);
      let largestWal = 0;
      for (let commit = 0; commit < 600; commit++) {
        insert.run(payload);
        if (existsSync(`${path}-wal`)) largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
        await sleep(10);
      }
      expect(largestWal).toBeGreaterThan(0);
      expect(largestWal).toBeLessThan(60_000_000);
      expect(db.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: 600 });
    } finally {
      await checkpointer?.stop();
      db.close();
    }
  });
});
