import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointSetup {
  path: string;
  intervalMs: number;
}

/**
 * The checkpointing thread, on its own connection: a PASSIVE checkpoint every interval copies the WAL
 * into the database without waiting for (or blocking) readers and writers, and its fsyncs stall only
 * this thread. It keeps the normal priority: an idle-class thread starved while it holds the checkpoint
 * lock keeps the service connection from checkpointing too, and on a host whose cores are busy the WAL
 * then grows without bound (72–126 MB in 6 s with four CPU hogs, where the service's own checkpoint
 * holds it near 40 MB).
 */
const { path, intervalMs } = workerData as CheckpointSetup;
const db = new Database(path);
setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), intervalMs);
