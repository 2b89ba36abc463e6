import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importLogFile, lineChunks } from '../../src/ingest/loadbalancer/importFile.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { nginxLine } from '../helpers/app.js';
import { memoryStore, pipelineOf } from '../helpers/pipeline.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('sloguard-long-line-');
afterAll(() => dir.cleanup());

/** A good line, 24 MiB with no newline, then two good lines. */
function fileWithEndlessLine(): { path: string; size: number } {
  const t = Date.now() - 60_000;
  const good = (i: number) => nginxLine(t + i, 'GET', '/items/1', 200, 0.01);
  const text = `${good(0)}\n${'x'.repeat(24 * 1024 * 1024)}\n${good(1)}\n${good(2)}\n`;
  const path = join(dir.path, 'endless.log');
  writeFileSync(path, text);
  return { path, size: Buffer.byteLength(text) };
}

describe('an import of a line with no end in sight', () => {
  it('keeps its chunks bounded and the text offsets exact', async () => {
    const { path, size } = fileWithEndlessLine();
    const chunkBytes = 1024 * 1024;
    let largest = 0;
    let end = 0;
    for await (const chunk of lineChunks(path, 0, chunkBytes, () => {})) {
      largest = Math.max(largest, chunk.bytes.length);
      end = chunk.end;
    }
    // The endless line is cut to what the parser needs to refuse it, not held whole (24 MiB before).
    expect(largest).toBeLessThanOrEqual(2 * chunkBytes);
    expect(end).toBe(size);
  });

  it('refuses it once, as too long, and keeps the lines around it', async () => {
    const { path } = fileWithEndlessLine();
    const store = memoryStore();
    const pipeline = pipelineOf(store.buckets, 50_000);
    const context = { source: 'edge', service: 'shop', routes: new ServiceRoutes(() => []) };
    const summary = await importLogFile(path, 'nginx', context, pipeline, { threads: 0 });
    expect(summary).toMatchObject({ accepted: 3, rejected: 1 });
    expect(store.total('shop')).toBe(3);
  });
});
