/**
 * How long a process's event loop is held in one piece: its main thread's run and wait times in nanoseconds
 * (/proc/PID/task/PID/schedstat: time on a core, time runnable but waiting for one), polled every
 * millisecond on a thread of its own, so the poll does not wait for the measuring client's own work. A hold is
 * a run of polls in which the thread was busy (nearly) all the time: on a core, or runnable and waiting for
 * one (an idle event loop sleeps, neither). A request due during a hold waits for its end: a hold's CPU time
 * is the service's own share of that wait, the rest of its wall time the machine's.
 *
 * A thread blocked in the kernel (state D: a `pwrite` waiting for the file system's journal, an `fsync`) is
 * neither running nor waiting for a core, so it shows in no hold: each poll also reads the thread's state, and
 * for a blocked one the kernel function it sleeps in (`wchan`), so the bench can say how long the loop was
 * stuck on the disk and where.
 */
import { Worker } from 'node:worker_threads';

/** Holds by their CPU time in ms, as counts: [1, 2), [2, 5), [5, 10), [10, 20), [20, ∞). */
export const HOLD_BOUNDS_MS = [1, 2, 5, 10, 20] as const;

/** One hold: the CPU the loop ran in it, and its length in wall time (CPU plus waits for a core). */
export interface Hold {
  cpuMs: number;
  wallMs: number;
}

export interface LoopHolds {
  /** Counts per HOLD_BOUNDS_MS bucket. */
  counts: number[];
  /** The holds longest in CPU (at most 5), longest first. */
  longest: Hold[];
  /** The main thread's CPU time over the window, ms per s. */
  cpuMsPerSecond: number;
  /** Time it was runnable but waited for a core, ms per s. */
  waitMsPerSecond: number;
  /** Blocked in the kernel (state D), by polls: ms per s, the longest stretches (wall ms, at most 5), where. */
  blocked: { msPerSecond: number; longestMs: number[]; where: Record<string, number> };
}

/** One poll: wall ns, run ns, wait ns, and the kernel function the thread slept in when blocked (state D). */
export type Poll = readonly [number, number, number, string?];

/** A poll interval counts as held when the thread ran or waited for a core at least this share of it. */
const HELD_SHARE = 0.8;

/** The blocked stretches of `polls` (consecutive polls finding the thread in state D), in wall ms. */
function blockedOf(polls: readonly Poll[], seconds: number): LoopHolds['blocked'] {
  const stretches: number[] = [];
  const where: Record<string, number> = {};
  let since: number | undefined;
  for (const [wallNs, , , wchan] of polls) {
    if (wchan !== undefined) {
      where[wchan] = (where[wchan] ?? 0) + 1;
      since ??= wallNs;
    } else if (since !== undefined) {
      stretches.push((wallNs - since) / 1e6);
      since = undefined;
    }
  }
  const total = stretches.reduce((a, b) => a + b, 0);
  return {
    msPerSecond: seconds > 0 ? total / seconds : 0,
    longestMs: stretches.sort((a, b) => b - a).slice(0, 5),
    where,
  };
}

/** Summarises polls into holds and blocked stretches. */
export function holdsOf(polls: readonly Poll[]): LoopHolds {
  const holds: Hold[] = [];
  let cpu = 0;
  let wall = 0;
  for (let i = 1; i < polls.length; i++) {
    const [now, before] = [polls[i]!, polls[i - 1]!];
    const [wallNs, runNs, waitNs] = [now[0] - before[0], now[1] - before[1], now[2] - before[2]];
    if (wallNs > 0 && runNs + waitNs >= HELD_SHARE * wallNs) {
      cpu += runNs;
      wall += wallNs;
    } else {
      if (cpu > 0) holds.push({ cpuMs: cpu / 1e6, wallMs: wall / 1e6 });
      cpu = 0;
      wall = 0;
    }
  }
  if (cpu > 0) holds.push({ cpuMs: cpu / 1e6, wallMs: wall / 1e6 });
  const counts = HOLD_BOUNDS_MS.map((low, i) => {
    const high = HOLD_BOUNDS_MS[i + 1] ?? Number.POSITIVE_INFINITY;
    return holds.filter((h) => h.cpuMs >= low && h.cpuMs < high).length;
  });
  const first = polls[0];
  const last = polls.at(-1);
  const seconds = first && last ? (last[0] - first[0]) / 1e9 : 0;
  const per = (index: 1 | 2) =>
    first && last && seconds > 0 ? (last[index] - first[index]) / 1e6 / seconds : 0;
  return {
    counts,
    longest: holds.sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 5),
    cpuMsPerSecond: per(1),
    waitMsPerSecond: per(2),
    blocked: blockedOf(polls, seconds),
  };
}

export const holdsText = (h: LoopHolds) =>
  `holds by CPU ${HOLD_BOUNDS_MS.map((low, i) => `${HOLD_BOUNDS_MS[i + 1] ? `${low}–${HOLD_BOUNDS_MS[i + 1]}` : `≥${low}`} ms: ${h.counts[i]}`).join(', ')}; longest ${h.longest.map((l) => `${l.cpuMs.toFixed(1)} (${l.wallMs.toFixed(1)} wall)`).join(', ') || '-'} ms; loop CPU ${h.cpuMsPerSecond.toFixed(0)} ms/s, waiting for a core ${h.waitMsPerSecond.toFixed(0)} ms/s; blocked in the kernel ${h.blocked.msPerSecond.toFixed(1)} ms/s, longest ${h.blocked.longestMs.map((ms) => ms.toFixed(1)).join(', ') || '-'} ms${blockedWhere(h.blocked.where)}`;

/** Where the blocked polls slept, most first. */
const blockedWhere = (where: Record<string, number>) => {
  const places = Object.entries(where).sort((a, b) => b[1] - a[1]);
  return places.length ? ` (polls in ${places.map(([f, n]) => `${f} ${n}`).join(', ')})` : '';
};

/**
 * The poller, plain JavaScript (a worker does not get the TypeScript loader): between 'start' and 'stop' it
 * records [wall ns, run ns, wait ns, wchan when blocked] every millisecond and answers 'stop' with them.
 */
const POLLER = `
const { readFileSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const task = '/proc/' + workerData.pid + '/task/' + workerData.pid;
let polls = [];
let timer;
const poll = () => {
  const [run, wait] = readFileSync(task + '/schedstat', 'utf8').split(' ');
  const stat = readFileSync(task + '/stat', 'utf8');
  // The state follows the command's closing parenthesis.
  const blocked = stat[stat.lastIndexOf(')') + 2] === 'D';
  const wall = Number(process.hrtime.bigint());
  const sample = [wall, Number(run), Number(wait)];
  // wchan reads 0 when the thread woke between the two reads.
  if (blocked) sample.push(readFileSync(task + '/wchan', 'utf8').replace(/^0?$/, '(woke)'));
  polls.push(sample);
};
parentPort.on('message', (message) => {
  if (message === 'start') {
    polls = [];
    timer = setInterval(poll, 1);
  } else {
    clearInterval(timer);
    parentPort.postMessage(polls);
  }
});
`;

/** Polls `pid`'s main thread during `take()`, on a worker thread. */
export class LoopHoldProbe {
  private readonly worker: Worker;

  constructor(pid: number) {
    this.worker = new Worker(POLLER, { eval: true, workerData: { pid } });
  }

  /** Starts a window; its polls are returned by the next `take()`. */
  async take<T>(during: () => Promise<T>): Promise<{ result: T; holds: LoopHolds }> {
    this.worker.postMessage('start');
    const result = await during();
    const polls = new Promise<Poll[]>((resolve) => this.worker.once('message', resolve));
    this.worker.postMessage('stop');
    return { result, holds: holdsOf(await polls) };
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}
