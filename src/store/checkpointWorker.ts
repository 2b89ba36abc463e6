import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { yieldToEventLoop } from '../workers.js';

export interface CheckpointSetup {
  path: string;
  intervalMs: number;
  /** WAL frames past which a RESTART checkpoint makes writers start the WAL over. */
  restartFrames: number;
}

/**
 * The checkpointing thread, on its own connection. A PASSIVE checkpoint every interval copies the WAL into
 * the database without waiting for (or blocking) anyone; its fsync stalls only this thread. But writers
 * start the WAL over only after a checkpoint has caught up with them, which never happens while they keep
 * writing: so once the WAL is long, a RESTART checkpoint holds writers off for the little the PASSIVE one
 * left and lets the next commit begin the WAL again.
 */
const { path, intervalMs, restartFrames } = workerData as CheckpointSetup;
yieldToEventLoop();
const db = new Database(path);
setInterval(() => {
  const [passive] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
  if (passive && passive.log > restartFrames) db.pragma('wal_checkpoint(RESTART)');
}, intervalMs);
