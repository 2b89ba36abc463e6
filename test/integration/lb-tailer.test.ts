import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createSloguard, type Sloguard } from '../../src/service.js';
import { nginxLine } from '../helpers/app.js';
import { ROOT } from '../helpers/service.js';
import { nginxTailer } from '../helpers/tailer.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The tailer driven poll by poll on real files and a real store: what it reads, what it commits, and what a
 * new tailer (a restarted sloguard) picks up. The end-to-end version with real nginx and HAProxy is lb-tail.
 */

describe('LogTailer', () => {
  let dir: ReturnType<typeof tempDir>;
  let sloguard: Sloguard;
  let logPath: string;
  let line = 0;

  beforeEach(() => {
    dir = tempDir('sloguard-tailer-');
    logPath = join(dir.path, 'access.log');
    sloguard = createSloguard({
      ...loadConfig({ SLOGUARD_LOG_LEVEL: 'silent' }),
      databasePath: join(dir.path, 'sloguard.db'),
      definitionsPath: join(ROOT, 'slo-definitions'),
    });
  });
  afterEach(() => {
    sloguard.close();
    dir.cleanup();
  });

  const tailer = () => nginxTailer(sloguard, logPath);
  const lines = (count: number) =>
    Array.from(
      { length: count },
      () => `${nginxLine(Date.now() - 30_000, 'GET', `/p/${line++}`, 200, 0.01)}\n`,
    ).join('');
  const counted = () =>
    (sloguard.db.prepare('SELECT COALESCE(SUM(total), 0) AS n FROM minute_buckets').get() as { n: number }).n;

  it('reads whole lines only, and carries on after a restart without repeating one', async () => {
    writeFileSync(logPath, lines(3));
    appendFileSync(logPath, '10.0.0.1 - - [half a line');
    const first = tailer();
    await first.poll();
    expect(counted()).toBe(3);
    appendFileSync(logPath, ` ...\n${lines(2)}`);
    await first.poll();
    // The completed half line is garbage (rejected); the two after it count.
    expect(first.counts).toMatchObject({ accepted: 5, rejected: 1 });
    const second = tailer();
    await second.start();
    await second.stop();
    await first.stop();
    expect(counted()).toBe(5);
  });

  it('finds a file rotated while it was down by its inode and reads the rest of it first', async () => {
    writeFileSync(logPath, lines(4));
    const before = tailer();
    await before.poll();
    await before.stop();
    appendFileSync(logPath, lines(3));
    renameSync(logPath, `${logPath}.1`);
    writeFileSync(logPath, lines(2));
    const after = tailer();
    await after.start();
    await after.poll();
    await after.stop();
    expect(counted()).toBe(9);
  });

  it('reads a copytruncated file again from the start, even when it grew back past the old offset', async () => {
    writeFileSync(logPath, lines(2));
    const t = tailer();
    await t.poll();
    truncateSync(logPath, 0);
    writeFileSync(logPath, lines(5));
    await t.poll();
    await t.stop();
    expect(counted()).toBe(7);
  });
});
