import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** One remote-write body waiting for the engine, oldest first. */
export interface BufferedWrite {
  id: number;
  /** The grid time its samples are stamped with. */
  gridMs: number;
  body: Buffer;
}

/**
 * The collector's on-disk buffer of remote-write bodies not yet delivered: its own SQLite file (WAL,
 * synchronous=NORMAL: a write survives the process being killed), bounded in bytes. Past the bound the oldest
 * writes are dropped, counted and reported through `onDropped`, so an engine outage costs disk up to the bound,
 * never memory. Writes survive a restart and are sent before any new one (they are older).
 */
export class WriteBuffer {
  private readonly db: Database.Database;
  private bytesHeld: number;
  private writesHeld: number;
  /** Writes dropped because the buffer was full, since this process started. */
  dropped = 0;

  constructor(
    path: string,
    readonly maxBytes: number,
    private readonly onDropped: (write: { id: number; gridMs: number; bytes: number }) => void = () => {},
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS remote_writes (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      grid_ms INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      body BLOB NOT NULL
    )`);
    const held = this.db
      .prepare('SELECT count(*) AS writes, coalesce(sum(bytes), 0) AS bytes FROM remote_writes')
      .get() as { writes: number; bytes: number };
    this.writesHeld = held.writes;
    this.bytesHeld = held.bytes;
  }

  /** Undelivered writes held. */
  get writes(): number {
    return this.writesHeld;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** Keeps a body (committed when this returns); drops the oldest while the buffer is over its bound. */
  push(gridMs: number, body: Uint8Array): void {
    const insert = this.db.prepare('INSERT INTO remote_writes (grid_ms, bytes, body) VALUES (?, ?, ?)');
    const oldest = this.db.prepare(
      'SELECT id, grid_ms AS gridMs, bytes FROM remote_writes ORDER BY id LIMIT 1',
    );
    const remove = this.db.prepare('DELETE FROM remote_writes WHERE id = ?');
    const droppedNow: Array<{ id: number; gridMs: number; bytes: number }> = [];
    this.db.transaction(() => {
      insert.run(gridMs, body.byteLength, body);
      this.writesHeld += 1;
      this.bytesHeld += body.byteLength;
      // The newest write stays even alone over the bound: it carries every live counter's latest value.
      while (this.bytesHeld > this.maxBytes && this.writesHeld > 1) {
        const row = oldest.get() as { id: number; gridMs: number; bytes: number };
        remove.run(row.id);
        this.writesHeld -= 1;
        this.bytesHeld -= row.bytes;
        droppedNow.push(row);
      }
    })();
    this.dropped += droppedNow.length;
    for (const row of droppedNow) this.onDropped(row);
  }

  /** The oldest undelivered write. */
  peek(): BufferedWrite | undefined {
    return this.db
      .prepare('SELECT id, grid_ms AS gridMs, body FROM remote_writes ORDER BY id LIMIT 1')
      .get() as BufferedWrite | undefined;
  }

  /** Forgets a write once delivered (or refused for good). */
  remove(id: number): void {
    const row = this.db.prepare('DELETE FROM remote_writes WHERE id = ? RETURNING bytes').get(id) as
      | { bytes: number }
      | undefined;
    if (!row) return;
    this.writesHeld -= 1;
    this.bytesHeld -= row.bytes;
  }

  close(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
