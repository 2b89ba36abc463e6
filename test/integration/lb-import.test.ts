import { spawnSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nginxLine, testApp } from '../helpers/app.js';
import { fixtureLines } from '../helpers/lbFixtures.js';
import { CLI, ensureBuilt, ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/** Days back to 2000, when the oldest fixture line was logged. */
const FIXTURE_RETENTION_DAYS = 10_000;

/** Sums of every bucket written for a source. */
function stored(databasePath: string, source: string) {
  const db = new Database(databasePath, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT COALESCE(SUM(b.total), 0) AS total, COALESCE(SUM(b.errors), 0) AS errors
           FROM minute_buckets b JOIN series s ON s.id = b.series_id WHERE s.source = ?`,
      )
      .get(source) as { total: number; errors: number };
  } finally {
    db.close();
  }
}

describe('sloguard import (the real CLI)', () => {
  const dir = tempDir('sloguard-import-');
  const databasePath = join(dir.path, 'sloguard.db');
  const definitions = join(dir.path, 'slo-definitions');

  beforeAll(() => {
    ensureBuilt();
    cpSync(join(ROOT, 'slo-definitions'), definitions, { recursive: true });
  });
  afterAll(() => dir.cleanup());

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'import', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, SLOGUARD_DATABASE: databasePath, SLOGUARD_DEFINITIONS: definitions },
    });

  it('reads a gzip-rotated file and a plain one into buckets, reporting bad lines with file:line', () => {
    const t = Date.now() - 60_000;
    const lines = Array.from({ length: 300 }, (_, i) =>
      nginxLine(t + i, i % 3 === 0 ? 'POST' : 'GET', `/profile/${i}`, i % 10 === 0 ? 503 : 200, 0.05),
    );
    const rotated = join(dir.path, 'access.log.2.gz');
    writeFileSync(rotated, gzipSync(`${[...lines.slice(0, 200), 'garbage'].join('\n')}\n`));
    const current = dir.file('access.log.1', `${lines.slice(200).join('\n')}\n`);
    const result = run(
      '--format',
      'nginx',
      '--source',
      'edge-import',
      '--service',
      'user-profile',
      rotated,
      current,
    );
    expect(result.stderr).toContain(`${rotated}:201: not an nginx combined line`);
    expect(result.stdout).toContain('imported 300 lines (1 rejected, 0 skipped) from 2 files');
    expect(result.status).toBe(0);
    expect(stored(databasePath, 'edge-import')).toEqual({ total: 300, errors: 30 });
  });

  it('parses a file of several chunks on worker threads, citing file line numbers', () => {
    const t = Date.now() - 120_000;
    const lines = Array.from({ length: 60_000 }, (_, i) =>
      nginxLine(t + i, 'GET', `/orders/${i}?page=${i % 7}`, i % 20 === 0 ? 502 : 200, 0.012),
    );
    lines[44_999] = 'not a log line';
    const big = dir.file('big.log', `${lines.join('\n')}\n`);
    const result = run(
      ...['--format', 'nginx', '--source', 'edge-big', '--service', 'user-profile', '--threads', '2', big],
    );
    expect(result.stderr).toContain(`${big}:45000: not an nginx combined line`);
    expect(result.stdout).toContain('imported 59999 lines (1 rejected, 0 skipped) from 1 files');
    expect(stored(databasePath, 'edge-big')).toEqual({ total: 59_999, errors: 3000 });
  });

  it('refuses an unknown format or a source without a service (exit 64)', () => {
    const file = dir.file('x.log', 'x\n');
    const unknown = run('--format', 'apache', '--service', 's', file);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain('unknown format "apache"');
    const unmapped = run('--format', 'nginx', file);
    expect(unmapped.status).toBe(64);
    expect(unmapped.stderr).toContain('no service for source "nginx"');
  });
});

describe('POST /api/v1/ingest/lb with every format and the status choice', () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  beforeEach(async () => {
    // The fixtures are real logs from 2000 to 2024: an hour retention long enough to take them.
    ctx = await testApp({ hourRetentionDays: FIXTURE_RETENTION_DAYS });
  });
  afterEach(async () => {
    await ctx.close();
  });

  it.each([
    ['alb', 'aws-alb-access.log', 7, 0],
    ['envoy', 'envoy-default-access.log', 1, 0],
    ['gcp', 'gcp-lb-requests.elastic-cdn.jsonl', 3, 0],
    ['haproxy', 'haproxy-httplog.log', 6, 3],
    ['ingress-nginx', 'nginx-ingress-upstreaminfo.log', 27, 0],
    ['traefik', 'traefik-access.json.log', 7, 0],
    ['traefik', 'traefik-access-common.log', 8, 0],
  ])('format=%s takes %s', async (format, file, accepted, skipped) => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: `/api/v1/ingest/lb?format=${format}&source=${format}&service=web`,
      payload: `${fixtureLines(file).join('\n')}\n`,
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ accepted, skipped });
  });

  it('status=target judges an ALB request by what the target answered', async () => {
    const line = fixtureLines('aws-alb-access.log')[0]!.replace(' 200 200 ', ' 200 503 ');
    for (const [status, source] of [
      ['edge', 'alb-edge'],
      ['target', 'alb-target'],
    ] as const) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: `/api/v1/ingest/lb?format=alb&source=${source}&service=web&status=${status}`,
        payload: line,
      });
      expect(response.statusCode).toBe(202);
    }
    expect(stored(ctx.sloguard.config.databasePath, 'alb-edge')).toEqual({ total: 1, errors: 0 });
    expect(stored(ctx.sloguard.config.databasePath, 'alb-target')).toEqual({ total: 1, errors: 1 });
  });

  it('refuses an unknown status choice with the field named', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=alb&service=web&status=origin',
      payload: 'x',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ field: expect.stringContaining('status') });
  });
});
