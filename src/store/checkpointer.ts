import { Worker } from 'node:worker_threads';
import { WORKERS_AVAILABLE } from '../workers.js';
import type { CheckpointSetup } from './checkpointWorker.js';

/** Often enough that the service connection's own checkpoints find little left to copy. */
const INTERVAL_MS = 50;

/**
 * SQLite checkpoints the WAL inside whichever commit takes it past 1,000 pages, on the committing thread:
 * copying 4 MB took 15–25 ms here, added to a gate answer or a span batch now and then. A worker thread
 * copies the WAL every 50 ms on its own connection, so when the service connection's automatic checkpoint
 * comes, only the last few pages are left (well under a millisecond). That one stays: all writes happen on
 * the service connection, so its checkpoint is the one that catches up with the writer and lets the next
 * commit start the WAL over, which a checkpoint racing the writer from another thread never does.
 */
export class WalCheckpointer {
  private readonly worker: Worker;

  private constructor(path: string, onFailure: (error: unknown) => void) {
    this.worker = new Worker(new URL('./checkpointWorker.js', import.meta.url), {
      workerData: { path, intervalMs: INTERVAL_MS } satisfies CheckpointSetup,
    });
    this.worker.unref();
    this.worker.once('error', onFailure);
  }

  /** A checkpointing thread for a file database when the build can start threads; otherwise none. */
  static start(path: string, onFailure: (error: unknown) => void): WalCheckpointer | undefined {
    if (!WORKERS_AVAILABLE || path === ':memory:') return undefined;
    return new WalCheckpointer(path, onFailure);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
