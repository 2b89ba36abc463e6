import { spawn, spawnSync } from 'node:child_process';
import { cpSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { random } from '../../src/demo/traffic.js';
import { importLogFile } from '../../src/ingest/loadbalancer/importFile.js';
import { nginxLine, testApp } from '../helpers/app.js';
import { stopChild } from '../helpers/process.js';
import { CLI, ensureBuilt, ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const LINES = 200_000;
/** Commits every 10,000 lines (half the queue), so the import has many commit points to be killed between. */
const MAX_QUEUED = '20000';
const SEED = Number(process.env.SLOGUARD_TEST_SEED ?? Date.now() % 1_000_000);

describe('sloguard import killed midway', () => {
  const dir = tempDir('sloguard-import-resume-');
  const databasePath = join(dir.path, 'sloguard.db');
  const definitions = join(dir.path, 'slo-definitions');
  const env = {
    PATH: process.env.PATH,
    SLOGUARD_DATABASE: databasePath,
    SLOGUARD_DEFINITIONS: definitions,
    SLOGUARD_MAX_QUEUED_OBSERVATIONS: MAX_QUEUED,
  };
  const args = (...extra: string[]) => [
    CLI,
    'import',
    '--format',
    'nginx',
    '--source',
    'edge',
    '--service',
    'shop',
    ...extra,
  ];
  let file = '';

  beforeAll(() => {
    ensureBuilt();
    cpSync(join(ROOT, 'slo-definitions'), definitions, { recursive: true });
    const t = Date.now() - 3_600_000;
    const lines = Array.from({ length: LINES }, (_, i) =>
      nginxLine(t + i * 10, 'GET', `/item/${i % 50}`, i % 100 === 0 ? 503 : 200, 0.01),
    );
    file = dir.file('access.log', `${lines.join('\n')}\n`);
  });
  afterAll(() => dir.cleanup());

  /** Total counted for the source, and the import's record of the file. */
  function stored() {
    const db = new Database(databasePath, { readonly: true });
    try {
      const { total } = db
        .prepare(
          `SELECT COALESCE(SUM(b.total), 0) AS total FROM minute_buckets b JOIN series s ON s.id = b.series_id WHERE s.source = 'edge'`,
        )
        .get() as { total: number };
      const record = db.prepare('SELECT offset, lines FROM imported_files').get() as
        | { offset: number; lines: number }
        | undefined;
      return { total, record };
    } catch {
      return { total: 0, record: undefined };
    } finally {
      db.close();
    }
  }

  it('resumes from the committed offset after SIGKILL and counts every line exactly once', async () => {
    const killAtLines = Math.floor(LINES * (0.15 + 0.5 * random(SEED)()));
    console.log(`import-resume seed ${SEED}: kill once ${killAtLines} lines are committed`);
    const child = spawn(process.execPath, args(file), { env, stdio: 'ignore' });
    try {
      await waitFor(
        `${killAtLines} lines committed`,
        () => {
          if (child.exitCode !== null)
            throw new Error(`the import ended (${child.exitCode}) before the kill`);
          return (stored().record?.lines ?? 0) >= killAtLines;
        },
        { timeoutMs: 60_000, intervalMs: 10 },
      );
    } finally {
      await stopChild(child, 'SIGKILL');
    }
    const killed = stored();
    expect(child.signalCode).toBe('SIGKILL');
    expect(killed.record!.lines).toBeLessThan(LINES);
    // What was committed is exactly what the record says.
    expect(killed.total).toBe(killed.record!.lines);

    const rerun = spawnSync(process.execPath, args(file), { env, encoding: 'utf8' });
    expect(rerun.status).toBe(0);
    expect(rerun.stdout).toContain(`resumed at byte ${killed.record!.offset}`);
    expect(rerun.stdout).toContain(`committed up to byte ${statSync(file).size}`);
    expect(stored().total).toBe(LINES);

    const again = spawnSync(process.execPath, args(file), { env, encoding: 'utf8' });
    expect(again.stdout).toContain('already imported');
    expect(again.stdout).toContain(`${LINES} lines (${LINES} accepted, 0 rejected, 0 skipped)`);
    expect(stored().total).toBe(LINES);

    const forced = spawnSync(process.execPath, args('--force', file), { env, encoding: 'utf8' });
    expect(forced.status).toBe(0);
    expect(stored().total).toBe(2 * LINES);
  }, 180_000);

  it('resumes a gzip file at a text offset: the lines before it are neither read nor counted', async () => {
    const ctx = await testApp();
    try {
      const t = Date.now() - 60_000;
      const lines = Array.from({ length: 3_000 }, (_, i) =>
        nginxLine(t + i, 'GET', `/r/${i % 7}`, 200, 0.01),
      );
      lines[2_500] = 'not a log line';
      const gz = join(dir.path, 'rotated.log.gz');
      writeFileSync(gz, gzipSync(`${lines.join('\n')}\n`));
      const from = { offset: Buffer.byteLength(`${lines.slice(0, 1_000).join('\n')}\n`), lines: 1_000 };
      const committed: number[] = [];
      const context = { source: 'gz', service: 'shop', routes: ctx.sloguard.routes };
      const summary = await importLogFile(gz, 'nginx', context, ctx.sloguard.pipeline, {
        from,
        committed: (progress) => committed.push(progress.offset),
      });
      expect(summary).toMatchObject({ accepted: 1_999, rejected: 1 });
      expect(summary.problems[0]).toMatchObject({ line: 2_501 });
      expect(committed.at(-1)).toBe(Buffer.byteLength(`${lines.join('\n')}\n`));
    } finally {
      await ctx.close();
    }
  });
});
