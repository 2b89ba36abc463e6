import { Worker } from 'node:worker_threads';
import { WORKERS_AVAILABLE } from '../workers.js';
import type { CheckpointSetup } from './checkpointWorker.js';
import type { Db } from './database.js';

const INTERVAL_MS = 1_000;
/** 16 MB of 4 KiB pages. */
const RESTART_FRAMES = 4_096;

/**
 * SQLite checkpoints the WAL inside whichever commit takes it past 1,000 pages, on the committing thread:
 * with fsync, 10–20 ms added to a gate answer or a span batch now and then. Here a worker thread checkpoints
 * every second on its own connection and the service's connection never does (it may wait briefly when
 * the WAL is started over, every 16 MB written). Should the thread die,
 * checkpoints go back to the service's connection rather than letting the WAL grow.
 */
export class WalCheckpointer {
  private readonly worker: Worker;

  private constructor(db: Db, path: string, onFailure: (error: unknown) => void) {
    this.worker = new Worker(new URL('./checkpointWorker.js', import.meta.url), {
      workerData: { path, intervalMs: INTERVAL_MS, restartFrames: RESTART_FRAMES } satisfies CheckpointSetup,
    });
    this.worker.unref();
    db.pragma('wal_autocheckpoint = 0');
    this.worker.once('error', (error) => {
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
      onFailure(error);
    });
  }

  /** A checkpointing thread for a file database when the build can start threads; otherwise none. */
  static start(db: Db, path: string, onFailure: (error: unknown) => void): WalCheckpointer | undefined {
    if (!WORKERS_AVAILABLE || path === ':memory:') return undefined;
    return new WalCheckpointer(db, path, onFailure);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
