import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { yieldToEventLoop } from '../workers.js';

export interface CheckpointSetup {
  path: string;
  intervalMs: number;
}

/**
 * The checkpointing thread, on its own connection: a PASSIVE checkpoint every interval copies the WAL
 * into the database without waiting for (or blocking) readers and writers, and its fsyncs stall only
 * this thread.
 */
const { path, intervalMs } = workerData as CheckpointSetup;
yieldToEventLoop();
const db = new Database(path);
setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), intervalMs);
