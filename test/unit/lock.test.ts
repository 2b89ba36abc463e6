import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DatabaseLockedError, lockDatabase, lockHolder, lockPathOf } from '../../src/store/lock.js';
import { stopChild } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';

/** A process that runs until stopped: a live holder with a PID of its own. */
function sleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

describe('the database lock file', () => {
  const dir = tempDir('sloguard-lock-');
  const database = join(dir.path, 'sloguard.db');
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) await stopChild(child, 'SIGKILL');
  });
  afterAll(() => dir.cleanup());

  it('holds our PID while held and is gone once released', () => {
    const lock = lockDatabase(database, 'sloguard serve');
    const holder = JSON.parse(readFileSync(lockPathOf(database), 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, host: hostname(), command: 'sloguard serve' });
    expect(() => lockDatabase(database, 'sloguard import')).toThrow(DatabaseLockedError);
    lock.release();
    expect(existsSync(lockPathOf(database))).toBe(false);
    lockDatabase(database, 'sloguard serve').release();
  });

  it('refuses a database a live process holds, naming the database and the PID', async () => {
    const child = sleeper();
    children.push(child);
    const pid = child.pid!;
    const record = { pid, host: hostname(), command: 'sloguard serve', startTicks: startTicks(pid) };
    writeFileSync(lockPathOf(database), JSON.stringify(record));
    expect(lockHolder(database)).toEqual(record);
    expect(() => lockDatabase(database, 'sloguard serve')).toThrow(
      `database ${database} is in use by sloguard serve (PID ${pid} on ${hostname()})`,
    );
    // Once the holder is gone, its file is stale and replaced.
    await stopChild(child, 'SIGKILL');
    expect(lockHolder(database)).toBeUndefined();
    const lock = lockDatabase(database, 'sloguard serve');
    expect(JSON.parse(readFileSync(lockPathOf(database), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('does not take a reused PID for the holder: the start time differs', () => {
    const child = sleeper();
    children.push(child);
    const pid = child.pid!;
    const record = { pid, host: hostname(), command: 'sloguard serve', startTicks: startTicks(pid) - 1 };
    writeFileSync(lockPathOf(database), JSON.stringify(record));
    lockDatabase(database, 'sloguard serve').release();
  });

  it('counts a holder on another host as alive, and a young unreadable file as held', () => {
    writeFileSync(
      lockPathOf(database),
      JSON.stringify({ pid: 1, host: 'elsewhere', command: 'sloguard serve' }),
    );
    expect(() => lockDatabase(database, 'sloguard serve')).toThrow('PID 1 on elsewhere');
    writeFileSync(lockPathOf(database), '{"pid":');
    expect(() => lockDatabase(database, 'sloguard serve')).toThrow(DatabaseLockedError);
  });
});
