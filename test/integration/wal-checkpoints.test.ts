import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Checkpointer from '../../src/store/checkpointer.js';
import type * as Database from '../../src/store/database.js';
import { ensureBuilt, ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/** The build's modules: the checkpointing thread loads compiled files only. */
async function built() {
  ensureBuilt();
  const load = async <T>(path: string) => (await import(pathToFileURL(join(ROOT, 'dist', path)).href)) as T;
  return {
    openDatabase: (await load<typeof Database>('store/database.js')).openDatabase,
    WalCheckpointer: (await load<typeof Checkpointer>('store/checkpointer.js')).WalCheckpointer,
  };
}

const dir = tempDir('sloguard-wal-');
afterAll(() => dir.cleanup());
let modules: Awaited<ReturnType<typeof built>>;
beforeAll(async () => {
  modules = await built();
});

describe('WAL checkpoints on their own thread', () => {
  it('keep the WAL small while the service connection never checkpoints itself', async () => {
    const path = join(dir.path, 'sloguard.db');
    const db = modules.openDatabase(path);
    const checkpointer = modules.WalCheckpointer.start(db, path, (error) => {
      throw error;
    });
    expect(checkpointer).toBeDefined();
    try {
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      db.exec('CREATE TABLE filler (payload BLOB)');
      const insert = db.prepare('INSERT INTO filler (payload) VALUES (?)');
      const payload = Buffer.alloc(100_000, 7);
      // 60 MB in 600 commits over 6 s or more: without checkpoints the WAL would hold all of it.
      let largestWal = 0;
      for (let commit = 0; commit < 600; commit++) {
        insert.run(payload);
        const wal = `${path}-wal`;
        if (existsSync(wal)) largestWal = Math.max(largestWal, statSync(wal).size);
        await sleep(10);
      }
      expect(largestWal).toBeGreaterThan(0);
      expect(largestWal).toBeLessThan(40_000_000);
      expect(db.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: 600 });
    } finally {
      await checkpointer?.stop();
      db.close();
    }
  });
});
