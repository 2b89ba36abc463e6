import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { importLogFile } from '../../src/ingest/loadbalancer/importFile.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { decodeSpansInto } from '../../src/ingest/zipkin/decode.js';
import { SpanDecoder } from '../../src/ingest/zipkin/decoder.js';
import { SpansRejected } from '../../src/ingest/zipkin/span.js';
import { WalCheckpointer } from '../../src/store/checkpointer.js';
import { openDatabase } from '../../src/store/database.js';
import { THREADS_BY_DEFAULT, WorkerPool } from '../../src/workers.js';
import { nginxLine } from '../helpers/app.js';
import { memoryStore, pipelineOf } from '../helpers/pipeline.js';
import { CLIENT_SPANS, SERVER_SPANS, shopSpans } from '../helpers/shopSlos.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { protoSpans } from '../helpers/zipkinProto.js';

/**
 * The thread paths run from the .ts sources too (each thread loads tsx to compile its entry), so they are
 * tested here without a build; test/integration/{span-threads,lb-import,wal-checkpoints} run them from dist/.
 */
const dir = tempDir('sloguard-worker-threads-');
afterAll(() => dir.cleanup());
const runs = vi.spyOn(WorkerPool.prototype, 'run');
afterEach(() => runs.mockClear());

it('keeps work on the calling thread by default when run from the sources', () => {
  expect(THREADS_BY_DEFAULT).toBe(false);
});

describe('span batches decoded on a worker thread', () => {
  const templates = { shop: ['/items/:id'] };
  const routes = new ServiceRoutes((service) => templates[service as 'shop'] ?? []);
  const setup = { templates, thresholdsUs: [100_000], countingRules: [] };
  const spans = shopSpans(Date.now() * 1000);
  const json = JSON.stringify(spans);
  /** A fresh body each time: a body that owns its memory moves to the thread and is empty here afterwards. */
  const body = () => Buffer.from(json);
  // One thread for the suite: each starts by compiling its entry through tsx.
  const decoder = new SpanDecoder(routes, setup, 1);
  afterAll(() => decoder.close());

  it('counts a big JSON batch, a gzip batch and a proto3 batch exactly as the event loop would', async () => {
    expect(body().length).toBeGreaterThan(16 * 1024);
    const inline = new BatchAggregate(setup.thresholdsUs);
    const inlineSummary = decodeSpansInto(body(), false, undefined, routes, inline);
    expect(inline.observations).toBe(SERVER_SPANS + CLIENT_SPANS);
    // The template only the setup knows applies: no raw `/items/sku-7` series.
    expect([...inline.series.values()].map((s) => s.key.operation).sort()).toEqual(['/items/:id', '/stock']);

    const plain = new BatchAggregate(setup.thresholdsUs);
    expect(await decoder.decode(body(), false, undefined, plain)).toEqual(inlineSummary);
    const gzipped = new BatchAggregate(setup.thresholdsUs);
    expect(await decoder.decode(gzipSync(body()), false, 10_000_000, gzipped)).toEqual(inlineSummary);
    const proto = new BatchAggregate(setup.thresholdsUs);
    expect(await decoder.decode(protoSpans(spans), true, undefined, proto)).toEqual(inlineSummary);
    expect(runs).toHaveBeenCalledTimes(3);
    for (const batch of [plain, gzipped, proto]) {
      expect(batch.observations).toBe(inline.observations);
      expect(batch.series).toEqual(inline.series);
    }
  });

  it('refuses on the thread a gzip batch that inflates past its limit, as Zipkin would', async () => {
    const refused = decoder.decode(gzipSync(body()), false, 1_000, new BatchAggregate());
    await expect(refused).rejects.toBeInstanceOf(SpansRejected);
    await expect(refused).rejects.toMatchObject({ status: 413 });
    expect(runs).toHaveBeenCalledOnce();
  });
});

describe('a log import parsed on worker threads', () => {
  /** Requests per route template and whether failed, as stored. */
  const stored = (db: ReturnType<typeof memoryStore>['db']) =>
    db
      .prepare(
        'SELECT operation, sum(total) AS total, sum(errors) AS errors FROM minute_buckets JOIN series ON series.id = series_id GROUP BY operation ORDER BY operation',
      )
      .all();

  it('stores what an import on one thread stores, its chunks parsed by the threads', async () => {
    const t = Date.now() - 600_000;
    const lines = Array.from({ length: 10_000 }, (_, i) =>
      nginxLine(t + i * 20, i % 3 === 0 ? 'POST' : 'GET', `/items/${i % 50}`, i % 97 === 0 ? 502 : 200, 0.02),
    );
    lines[7_000] = 'not a log line';
    const file = join(dir.path, 'access.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const importWith = async (threads: number) => {
      const store = memoryStore();
      // A small write queue makes small chunks: many of them for the threads.
      const pipeline = pipelineOf(store.buckets, 5_000);
      const context = { source: 'edge', service: 'shop', routes: new ServiceRoutes(() => []) };
      const summary = await importLogFile(file, 'nginx', context, pipeline, { threads });
      return { summary, stored: stored(store.db), total: store.total('shop') };
    };
    const alone = await importWith(0);
    expect(runs).not.toHaveBeenCalled();
    const threaded = await importWith(2);
    // The first 2 × 2 chunks go to the threads; later ones too, unless the importing thread, finding the
    // threads behind, sums them itself (importFile.ts).
    expect(runs.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(alone.total).toBe(9_999);
    expect(alone.summary).toMatchObject({ accepted: 9_999, rejected: 1 });
    expect(threaded).toEqual(alone);
  });
});

describe('the WAL checkpoint worker', () => {
  it('copies the WAL into the database file while the service connection does not checkpoint itself', async () => {
    const filled = (name: string) => {
      const path = join(dir.path, name);
      const db = openDatabase(path);
      db.exec('CREATE TABLE filler (payload BLOB)');
      return {
        path,
        db,
        insert: db.prepare('INSERT INTO filler (payload) VALUES (?)'),
        size: statSync(path).size,
      };
    };
    const threaded = filled('threaded.db');
    const alone = filled('alone.db');
    const failures: unknown[] = [];
    const checkpointer = WalCheckpointer.start(
      threaded.db,
      threaded.path,
      (error) => failures.push(error),
      true,
    );
    expect(checkpointer).toBeDefined();
    expect(WalCheckpointer.start(alone.db, alone.path, () => {})).toBeUndefined();
    try {
      // 100 commits of ~2 pages: far below the 1,000 pages at which a connection checkpoints itself.
      const payload = Buffer.alloc(5_000, 7);
      for (let commit = 0; commit < 100; commit++) {
        threaded.insert.run(payload);
        alone.insert.run(payload);
      }
      await waitFor('the thread to copy the WAL into the database file', () =>
        statSync(threaded.path).size > threaded.size + 100 * 5_000 ? true : undefined,
      );
      expect(statSync(alone.path).size).toBe(alone.size);
      expect(failures).toEqual([]);
    } finally {
      await checkpointer?.stop();
      threaded.db.close();
      alone.db.close();
    }
  });
});
