import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';

/** Who holds a database: written as JSON into `<database>.lock`. */
export interface LockHolder {
  pid: number;
  host: string;
  /** `sloguard serve`, `sloguard import`: what the holder is doing. */
  command: string;
  /** The holder's start time in clock ticks since boot (Linux), so a reused PID is not taken for it. */
  startTicks?: number;
}

export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
  constructor(
    readonly databasePath: string,
    readonly holder: LockHolder,
  ) {
    super(
      `database ${databasePath} is in use by ${holder.command} (PID ${holder.pid} on ${holder.host}); ` +
        'one process owns a database: stop it first, or point this one at another database',
    );
  }
}

export interface DatabaseLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void;
}

/** A lock file whose holder is this young may still be being written: never judged stale. */
const UNREADABLE_GRACE_MS = 10_000;

/** Lock files this process holds: a second lock of the same database in one process is refused too. */
const held = new Set<string>();

const UNKNOWN_HOLDER: LockHolder = { pid: 0, host: '?', command: 'a process that left no PID' };

export function lockPathOf(databasePath: string): string {
  return `${resolve(databasePath)}.lock`;
}

/** Field 22 of /proc/PID/stat (start time since boot); undefined off Linux or when the process is gone. */
function startTicksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (!Number.isSafeInteger(holder.pid) || typeof holder.host !== 'string') return undefined;
    return holder as LockHolder;
  } catch {
    return undefined;
  }
}

/** Whether the holder still runs. A holder on another host cannot be checked: it counts as alive. */
export function holderAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  // Our own PID in the file is an earlier life of this PID (a container's PID 1 after a restart).
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const ticks = startTicksOf(holder.pid);
  return holder.startTicks === undefined || ticks === undefined || ticks === holder.startTicks;
}

/** The current holder of a database, if a live process holds it. */
export function lockHolder(databasePath: string): LockHolder | undefined {
  const holder = readHolder(lockPathOf(databasePath));
  return holder && holderAlive(holder) ? holder : undefined;
}

/**
 * Moves a stale lock file aside and deletes it. If another process replaced it in between (both found the
 * same stale file), the file moved aside is that process's live lock: it goes back.
 */
function removeStale(path: string, stale: LockHolder | undefined): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // Already gone: someone else removed it.
  }
  const moved = readHolder(aside);
  const same = moved?.pid === stale?.pid && moved?.startTicks === stale?.startTicks;
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // A third process holds the path now; the one we moved lost it and will find out on release.
    }
  }
  unlinkSync(aside);
}

/**
 * Takes `<database>.lock` for this process: created with O_EXCL, holding our PID. A file left by a process
 * that no longer runs (killed, host rebooted) is replaced; one held by a live process throws
 * DatabaseLockedError naming it. The lock is released on `release()` and when the process exits.
 */
export function lockDatabase(databasePath: string, command: string): DatabaseLock {
  if (databasePath === ':memory:') return { path: databasePath, release() {} };
  const path = lockPathOf(databasePath);
  if (held.has(path)) throw new DatabaseLockedError(databasePath, readHolder(path) ?? UNKNOWN_HOLDER);
  mkdirSync(dirname(path), { recursive: true });
  const startTicks = startTicksOf(process.pid);
  const mine: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command,
    ...(startTicks !== undefined && { startTicks }),
  };
  const content = `${JSON.stringify(mine)}\n`;
  // A bounded retry: after removing a stale file, or when the file vanished while we looked at it.
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (attempt >= 2) throw new DatabaseLockedError(databasePath, holder ?? UNKNOWN_HOLDER);
      if (!stat) continue;
      if (holder === undefined && Date.now() - stat.mtimeMs < UNREADABLE_GRACE_MS)
        throw new DatabaseLockedError(databasePath, UNKNOWN_HOLDER);
      if (holder !== undefined && holderAlive(holder)) throw new DatabaseLockedError(databasePath, holder);
      removeStale(path, holder);
      continue;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      held.delete(path);
      process.removeListener('exit', release);
      if (readHolder(path)?.pid === process.pid) unlinkSync(path);
    };
    held.add(path);
    process.once('exit', release);
    return { path, release };
  }
}
