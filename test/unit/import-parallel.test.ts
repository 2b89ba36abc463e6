import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultParsingThreads, importLogFile } from '../../src/ingest/loadbalancer/importFile.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { nginxLine } from '../helpers/app.js';
import { memoryStore, pipelineOf } from '../helpers/pipeline.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('sloguard-import-parallel-');
afterAll(() => dir.cleanup());

/** The write queue of the pipeline below: chunks of 400,000 bytes (pipeline.chunkBytesAtMost), commits of 25,000. */
const MAX_QUEUED = 50_000;
const CHUNK_BYTES = (MAX_QUEUED / 2) * 16;
const ROUTES = ['/api/orders/:n', '/api/users/:n/cart', '/search?q=:n', '/health', '/static/app.js'];

/**
 * Several chunks of lines over a few hours, with a malformed line and a good one each lying across a chunk
 * boundary (the reader splits the file there), a blank line and a CR line end.
 */
function logFile(): { path: string; badLine: number; size: number } {
  const t = Date.now() - 4 * 3_600_000;
  const lines: string[] = [];
  let bytes = 0;
  let badLine = 0;
  for (let i = 0; bytes < 4.5 * CHUNK_BYTES; i++) {
    const route = ROUTES[i % ROUTES.length]!.replace(':n', String((i * 7919) % 10_007));
    let line = nginxLine(
      t + i * 700,
      i % 9 === 0 ? 'POST' : 'GET',
      route,
      i % 13 === 0 ? 503 : 200,
      (i % 50) / 100,
    );
    const crossesBoundary = Math.floor(bytes / CHUNK_BYTES) < Math.floor((bytes + line.length) / CHUNK_BYTES);
    if (crossesBoundary && badLine === 0) {
      line = `not a log line ${'x'.repeat(line.length - 15)}`;
      badLine = i + 1;
    } else if (i === 100) line = '';
    else if (i === 101) line += '\r';
    lines.push(line);
    bytes += line.length + 1;
  }
  const text = `${lines.join('\n')}\n`;
  const path = join(dir.path, 'access.log');
  writeFileSync(path, text);
  return { path, badLine, size: Buffer.byteLength(text) };
}

/** Every stored row of both bucket tables and the series, as a comparable dump. */
function dump(db: ReturnType<typeof memoryStore>['db']) {
  const rows = (table: string) =>
    db
      .prepare(
        `SELECT s.service, s.operation, s.method, b.* FROM ${table} b JOIN series s ON s.id = b.series_id ORDER BY s.operation, s.method, b.${table === 'hour_buckets' ? 'hour' : 'minute'}`,
      )
      .all()
      .map((row) => ({ ...(row as Record<string, unknown>), series_id: undefined }));
  return { minutes: rows('minute_buckets'), hours: rows('hour_buckets') };
}

async function importWith(path: string, threads: number) {
  const store = memoryStore();
  const pipeline = pipelineOf(store.buckets, MAX_QUEUED);
  const context = {
    source: 'edge',
    service: 'shop',
    routes: new ServiceRoutes(() => ['/api/users/:id/cart']),
  };
  const committed: number[] = [];
  const summary = await importLogFile(path, 'nginx', context, pipeline, {
    threads,
    committed: (progress) => committed.push(progress.offset),
  });
  return { summary, committed, stored: dump(store.db) };
}

describe('an import parsed on threads', () => {
  it('stores exactly what one thread stores, and cites the same line numbers', async () => {
    const { path, badLine, size } = logFile();
    const alone = await importWith(path, 0);
    expect(alone.summary.rejected).toBe(1);
    expect(alone.summary.problems).toEqual([
      { line: badLine, reason: expect.stringContaining('not an nginx') },
    ]);
    expect(alone.committed.at(-1)).toBe(size);
    expect(alone.stored.minutes.length).toBeGreaterThan(100);
    for (const threads of [1, 2]) {
      const parallel = await importWith(path, threads);
      expect(parallel.summary, `${threads} threads`).toEqual(alone.summary);
      expect(parallel.stored, `${threads} threads`).toEqual(alone.stored);
      expect(parallel.committed.at(-1)).toBe(size);
    }
  }, 120_000);
});

describe('parsing threads by default', () => {
  it('uses none below 3 cores and at most 2, which keep an import within 150 MB of RSS (#23)', () => {
    expect([1, 2, 3, 4, 8, 64].map(defaultParsingThreads)).toEqual([0, 0, 2, 2, 2, 2]);
  });
});
