import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createSloguard } from '../../src/service.js';
import { nginxLine } from '../helpers/app.js';
import { CLI, ensureBuilt, ROOT, runCli, SloguardProcess } from '../helpers/service.js';
import { nginxTailer } from '../helpers/tailer.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

// Issue 15, findings 2 and 3 for the sources that do not come over HTTP: times outside the accepted range
// (before the hour retention, past the allowed clock skew) are rejected per line, never stored.
const DAY = 86_400_000;
const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

const storedRequests = (db: { prepare(sql: string): { get(): unknown } }) =>
  (db.prepare('SELECT COALESCE(SUM(total), 0) AS n FROM minute_buckets').get() as { n: number }).n;

describe('times out of range from files', () => {
  it('sloguard import (on worker threads) rejects them citing file lines and stores the rest', () => {
    ensureBuilt();
    const dir = tempDir('sloguard-time-import-');
    dirs.push(dir);
    const t = Date.now() - 120_000;
    // Several 1 MiB chunks and --threads 2: the lines are parsed on worker threads with the import's start range.
    const lines = Array.from({ length: 60_000 }, (_, i) =>
      nginxLine(t + i, 'GET', `/profile/${i}`, 200, 0.01),
    );
    lines[9] = nginxLine(Date.now() - 500 * DAY, 'GET', '/profile/old', 200, 0.01);
    lines[49_999] = nginxLine(Date.now() + DAY, 'GET', '/profile/tomorrow', 503, 0.01);
    const file = dir.file('access.log', `${lines.join('\n')}\n`);
    const result = spawnSync(
      process.execPath,
      [
        CLI,
        'import',
        '--format',
        'nginx',
        '--source',
        'edge',
        '--service',
        'user-profile',
        '--threads',
        '2',
        file,
      ],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          SLOGUARD_DATABASE: join(dir.path, 'sloguard.db'),
          SLOGUARD_DEFINITIONS: join(ROOT, 'slo-definitions'),
        },
      },
    );
    expect(result.stderr).toMatch(new RegExp(`${file}:10: time \\S+ is before the hour retention`));
    expect(result.stderr).toMatch(new RegExp(`${file}:50000: time \\S+ is ahead of the server clock`));
    expect(result.stdout).toContain('imported 59998 lines (2 rejected, 0 skipped) from 1 files');
    expect(result.status).toBe(0);
  });

  it('a tailed file: rejected lines are counted by reason for /metrics, the good lines stored', async () => {
    const dir = tempDir('sloguard-time-tail-');
    dirs.push(dir);
    const sloguard = createSloguard({
      ...loadConfig({ SLOGUARD_LOG_LEVEL: 'silent' }),
      databasePath: join(dir.path, 'sloguard.db'),
      definitionsPath: join(ROOT, 'slo-definitions'),
    });
    try {
      const logPath = join(dir.path, 'access.log');
      writeFileSync(
        logPath,
        `${[
          nginxLine(Date.now() - 30_000, 'GET', '/p/1', 200, 0.01),
          nginxLine(Date.now() + DAY, 'GET', '/p/2', 503, 0.01),
          nginxLine(Date.now() - 30_000, 'GET', '/p/3', 200, 0.01),
        ].join('\n')}\n`,
      );
      const counted: Record<string, number> = {};
      const tailer = nginxTailer(sloguard, logPath, {
        countRejected: (reason, lines) => {
          counted[reason] = (counted[reason] ?? 0) + lines;
        },
      });
      await tailer.poll();
      await tailer.stop();
      expect(tailer.counts).toMatchObject({ accepted: 2, rejected: 1 });
      expect(counted).toEqual({ time_out_of_range: 1 });
      expect(storedRequests(sloguard.db)).toBe(2);
    } finally {
      sloguard.close();
    }
  });
});

describe('sloguard status', () => {
  it('prints every SLO after a last-seen time past what a Date holds was stored (an older version)', async () => {
    const service = await SloguardProcess.start();
    try {
      const ingest = await fetch(`${service.url}/api/v1/ingest/lb?format=nginx&service=user-profile`, {
        method: 'POST',
        body: nginxLine(Date.now() - 1_000, 'GET', '/profile/1', 200, 0.01),
      });
      expect(ingest.status).toBe(202);
      const db = new Database(service.databasePath);
      db.prepare('UPDATE series SET last_seen_ms = 1e300').run();
      db.close();
      // Two evaluation ticks (1 s each) after the write, counted from /metrics, which reads no status times.
      const ticks = async () =>
        Number(
          /^sloguard_evaluation_duration_seconds_count (\d+)/m.exec(
            await (await fetch(`${service.url}/metrics`)).text(),
          )?.[1] ?? 0,
        );
      const before = await ticks();
      await waitFor('two evaluation ticks', async () => (await ticks()) >= before + 2);
      const result = await runCli(['status', '--url', service.url], {});
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('profile-availability');
    } finally {
      await service.cleanup();
    }
  });

  it('says what the service answered when it is not a list of SLOs, exit 1', async () => {
    ensureBuilt();
    const server = createServer((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":"internal","message":"Invalid time value"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const result = await runCli(['status', '--url', `http://127.0.0.1:${port}`], {});
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('answered HTTP 500');
      expect(result.stderr).toContain('Invalid time value');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
