import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { BatchTooLargeError, QueueFullError } from '../../src/ingest/pipeline.js';
import { openDatabase } from '../../src/store/database.js';
import { isStorageFault, StorageWatch } from '../../src/store/faults.js';
import { memoryStore, pipelineOf } from '../helpers/pipeline.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

/** `count` requests of one service at T0, as a batch. */
function batchOf(service: string, count: number): BatchAggregate {
  const batch = new BatchAggregate();
  for (let i = 0; i < count; i++) {
    batch.add({
      timeMs: T0 + i,
      kind: 'loadbalancer',
      source: 'edge',
      service,
      operation: '/',
      method: 'GET',
      status: 200,
      error: false,
    });
  }
  return batch;
}

/** A batch whose commit fails inside its transaction, after its series rows were inserted. */
function failingBatch(service: string): BatchAggregate {
  const batch = batchOf(service, 3);
  batch.alsoInTransaction(() => {
    throw new Error('constraint failed in this batch');
  });
  return batch;
}

describe('a failed transaction leaves no cached state', () => {
  it('a series inserted by a rolled back commit is inserted again by the next one (no FOREIGN KEY failure)', () => {
    const { buckets, total } = memoryStore();
    expect(() => buckets.commit(failingBatch('checkout'))).toThrow('constraint failed');
    expect(() => buckets.commit(batchOf('checkout', 5))).not.toThrow();
    expect(total('checkout')).toBe(5);
  });

  it('a good batch committed in the same group as a failing one is committed on its own', async () => {
    const { buckets, total } = memoryStore();
    const pipeline = pipelineOf(buckets, 1000);
    const good = pipeline.submit(batchOf('checkout', 4));
    const bad = pipeline.submit(failingBatch('user-profile'));
    const alsoGood = pipeline.submit(batchOf('user-profile', 2));
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('constraint failed');
    await expect(alsoGood).resolves.toBeUndefined();
    expect(total('checkout')).toBe(4);
    expect(total('user-profile')).toBe(2);
  });

  it('a full database (SQLITE_FULL) refuses batches as a storage fault, and the refused ones commit once there is room, each batch once', async () => {
    const { db, buckets, total } = memoryStore();
    const pipeline = pipelineOf(buckets, 100_000);
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    const batches = Array.from({ length: 200 }, (_, i) => batchOf(`service-${i}`, 1));
    const results = await Promise.allSettled(batches.map((batch) => pipeline.submit(batch)));
    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every(isStorageFault)).toBe(true);
    db.pragma('max_page_count = 1073741823');
    // A backlog commits in slices (issue #23), so batches of slices before the fault are committed and
    // answered; a client sends again only what was refused, and each batch then counts exactly once.
    const refused = batches.filter((_, i) => results[i]!.status === 'rejected');
    await Promise.all(refused.map((batch) => pipeline.submit(batch)));
    for (let i = 0; i < 200; i++) expect(total(`service-${i}`)).toBe(1);
  });
});

describe('the write queue bound', () => {
  it('refuses a batch larger than the whole queue as too large (not retryable), even with the queue empty', async () => {
    const { buckets } = memoryStore();
    const pipeline = pipelineOf(buckets, 1000);
    const refused = pipeline.submit(batchOf('checkout', 1001));
    await expect(refused).rejects.toBeInstanceOf(BatchTooLargeError);
    await expect(refused).rejects.toThrow('split it into requests of at most 1000');
    await expect(pipeline.submit(batchOf('checkout', 1000))).resolves.toBeUndefined();
  });

  it('refuses a batch that fits the queue but not what is waiting as retryable (QueueFullError)', async () => {
    const { buckets } = memoryStore();
    const pipeline = pipelineOf(buckets, 1000);
    const waiting = pipeline.submit(batchOf('checkout', 600));
    await expect(pipeline.submit(batchOf('checkout', 600))).rejects.toBeInstanceOf(QueueFullError);
    await waiting;
    await expect(pipeline.submit(batchOf('checkout', 600))).resolves.toBeUndefined();
  });
});

describe('StorageWatch', () => {
  function dbFile(): string {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'sloguard.db');
    openDatabase(path).close();
    return path;
  }

  it('notices the database file deleted, at most once a second', () => {
    const path = dbFile();
    let clock = 0;
    const watch = new StorageWatch(path, () => clock);
    expect(watch.problem()).toBeUndefined();
    rmSync(path);
    clock = 500;
    expect(watch.problem()).toBeUndefined();
    clock = 1_000;
    expect(watch.problem()).toMatch(/deleted/);
    expect(() => watch.assertWritable()).toThrow(/deleted/);
  });

  it('notices the database file replaced by another one, and stays unavailable', () => {
    const path = dbFile();
    let clock = 0;
    const watch = new StorageWatch(path, () => clock);
    writeFileSync(`${path}.new`, 'restored copy');
    renameSync(`${path}.new`, path);
    clock = 2_000;
    expect(watch.problem()).toMatch(/replaced/);
    clock = 4_000;
    expect(watch.problem()).toMatch(/replaced/);
  });
});
