import { statSync } from 'node:fs';

/** SQLite result codes (and their extended forms) that say the storage, not the data, is at fault. */
const STORAGE_FAULT_CODES = [
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_BUSY',
];

/** The database cannot take writes now (disk full, I/O error, its file deleted or replaced). */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
}

/**
 * Whether a write failed because of the storage (disk full, I/O error, lock held past the busy timeout, file
 * gone): the same write may succeed later, so callers answer 503, not 500.
 */
export function isStorageFault(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORAGE_FAULT_CODES.some((prefix) => code.startsWith(prefix));
}

/** Seconds a client should wait before retrying a write refused for a storage fault. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/** How often, at most, the database path is looked at again. */
const CHECK_EVERY_MS = 1_000;

/**
 * Notices the database file being deleted or replaced under the running service (a restore, a cleanup job):
 * SQLite keeps writing into the open, now unlinked, file and every acknowledged write would be lost. The
 * path's device and inode are compared with those at open, at most once a second, when a write or /readyz
 * asks. Once lost the store stays unavailable until a restart opens the file that is there now.
 */
export class StorageWatch {
  private readonly identity: string | undefined;
  private lost: string | undefined;
  private checkedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly path: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.identity = path === ':memory:' ? undefined : StorageWatch.identityOf(path);
  }

  private static identityOf(path: string): string | undefined {
    try {
      const { dev, ino } = statSync(path);
      return `${dev}:${ino}`;
    } catch {
      return undefined;
    }
  }

  /** Why the store cannot be written, or undefined while its file is the one opened. */
  problem(): string | undefined {
    if (this.identity === undefined || this.lost !== undefined) return this.lost;
    const nowMs = this.now();
    if (nowMs - this.checkedAtMs < CHECK_EVERY_MS) return undefined;
    this.checkedAtMs = nowMs;
    const identity = StorageWatch.identityOf(this.path);
    if (identity !== this.identity) {
      this.lost = `the database file was ${identity === undefined ? 'deleted' : 'replaced'} while sloguard had it open; restart sloguard`;
    }
    return this.lost;
  }

  /** Throws StorageUnavailableError when the file is gone: called before acknowledging writes. */
  assertWritable(): void {
    const problem = this.problem();
    if (problem !== undefined) throw new StorageUnavailableError(problem);
  }
}
