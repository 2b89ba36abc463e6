import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, type TransferListItem, Worker, type WorkerOptions } from 'node:worker_threads';

/** Loaded from the .ts sources (tsx, vitest) rather than from the build. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/**
 * Whether work goes to threads when the caller does not say: from the build, yes. From the sources each thread
 * first loads tsx to compile its entry (a few hundred milliseconds and tens of MB), which every test app would
 * pay for nothing, so there the work stays on the caller's thread unless it asks for threads (the tests of the
 * thread paths do).
 */
export const THREADS_BY_DEFAULT = !FROM_SOURCES;

/**
 * Starts a thread on an entry module named by its build file (`new URL('./decodeWorker.js', import.meta.url)`).
 * From the sources it starts the .ts file of that name instead, through a bootstrap that registers tsx in the
 * thread first: on Node 20 a thread does not inherit its parent's loader hooks, nor honours `--import tsx`.
 */
export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!FROM_SOURCES || !entry.pathname.endsWith('.js')) return new Worker(entry, options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const source = JSON.stringify(entry.href.replace(/\.js$/, '.ts'));
  const bootstrap = `import(${tsx}).then(({ register }) => { register(); return import(${source}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * The thread holding a request stopped (crashed, ran out of memory, was terminated) before answering. The
 * request did nothing the caller can see, and the pool has started a thread in its place: the request may be
 * sent again.
 */
export class WorkerLost extends Error {
  override name = 'WorkerLost';
}

/**
 * The request waited longer than its bound for a thread's answer (the threads are starved of CPU: they run in
 * the idle class, and the machine is busy). Its answer, if it ever comes, is dropped: the request did nothing
 * the caller can see and may be sent again.
 */
export class WorkerTimedOut extends Error {
  override name = 'WorkerTimedOut';
}

/** Nice value of background threads: CFS then gives the event loop about ten times their share. */
const BACKGROUND_NICE = 10;

interface Envelope<Request> {
  id: number;
  request: Request;
  /** Date.now() past which the caller no longer waits: the thread skips the request. */
  expiresAtMs?: number;
}

type Reply<Answer> = { id: number; answer: Answer } | { id: number; failure: string };

/** The failure a thread answers for a request its caller stopped waiting for. */
const EXPIRED = 'expired before a thread took it';

interface Thread {
  worker: Worker;
  /**
   * Requests sent and not yet answered or skipped. Counts, not Sets: a long-lived Set's table, reallocated as ids
   * come and go, outlives the scavenges and is old-generation garbage under span load (docs/benchmarks.md).
   */
  inFlight: number;
}

interface Waiter<Answer> {
  resolve(answer: Answer): void;
  reject(error: unknown): void;
  thread: Thread;
  timer?: NodeJS.Timeout;
}

/**
 * Request/answer over a few worker threads: each request goes to the thread with the fewest in flight. A
 * thread that dies fails only its own requests and is replaced. Idle threads do not keep the process alive.
 */
export class WorkerPool<Request, Answer> {
  private readonly threads: Thread[] = [];
  private readonly waiting = new Map<number, Waiter<Answer>>();
  /** Answers not yet settled (resolved, failed or timed out): what `drain` waits for, until `allSettled`. */
  private unsettled = 0;
  private allSettled: Promise<void> | undefined;
  private settleAll: (() => void) | undefined;
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly url: URL,
    size: number,
    private readonly workerData: unknown,
    /** Options of every thread beside its data (resourceLimits, say). */
    private readonly options: Omit<WorkerOptions, 'workerData'> = {},
  ) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn());
  }

  private spawn(): Thread {
    const thread: Thread = {
      worker: startWorker(this.url, { ...this.options, workerData: this.workerData }),
      inFlight: 0,
    };
    thread.worker.unref();
    thread.worker.on('message', (reply: Reply<Answer>) => {
      const waiter = this.settle(reply.id);
      if (!waiter) return;
      if ('answer' in reply) waiter.resolve(reply.answer);
      else waiter.reject(new Error(reply.failure));
    });
    const died = (error: unknown) => {
      for (const [id, waiter] of [...this.waiting])
        if (waiter.thread === thread) this.settle(id)?.reject(error);
      const at = this.threads.indexOf(thread);
      if (at >= 0 && !this.closed) this.threads[at] = this.spawn();
    };
    thread.worker.once('error', (error) => died(new WorkerLost(`worker thread failed: ${error.message}`)));
    thread.worker.once('exit', (code) => died(new WorkerLost(`worker thread exited with code ${code}`)));
    return thread;
  }

  private settle(id: number): Waiter<Answer> | undefined {
    const waiter = this.waiting.get(id);
    if (!waiter) return undefined;
    this.waiting.delete(id);
    clearTimeout(waiter.timer);
    waiter.thread.inFlight--;
    // Only threads with work keep the process alive (an import waiting on its last chunks).
    if (waiter.thread.inFlight === 0) waiter.thread.worker.unref();
    return waiter;
  }

  /**
   * Sends `request` to the thread with the fewest in flight. With `maxWaitMs`, rejects with WorkerTimedOut once
   * that long has passed without an answer; the request stays counted against its thread until the thread
   * answers or skips it (a thread skips a request whose caller stopped waiting before it was taken).
   */
  run(request: Request, transfer: readonly TransferListItem[] = [], maxWaitMs?: number): Promise<Answer> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const thread = this.threads.reduce((least, t) => (t.inFlight < least.inFlight ? t : least));
    const id = this.nextId++;
    const answer = new Promise<Answer>((resolve, reject) => {
      const waiter: Waiter<Answer> = { resolve, reject, thread };
      const envelope: Envelope<Request> = { id, request };
      if (maxWaitMs !== undefined) {
        envelope.expiresAtMs = Date.now() + maxWaitMs;
        waiter.timer = setTimeout(() => {
          // The reject settles the caller; the thread's late answer then resolves nothing.
          waiter.reject(new WorkerTimedOut(`no worker thread answered within ${maxWaitMs} ms`));
        }, maxWaitMs);
        waiter.timer.unref();
      }
      this.waiting.set(id, waiter);
      thread.inFlight++;
      thread.worker.ref();
      thread.worker.postMessage(envelope, transfer);
    });
    this.unsettled++;
    const settled = () => {
      this.unsettled--;
      if (this.unsettled === 0) this.settleAll?.();
    };
    answer.then(settled, settled);
    return answer;
  }

  /** Takes no more requests, lets those in flight finish, then stops the threads. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.unsettled > 0) {
      this.allSettled ??= new Promise<void>((resolve) => {
        this.settleAll = resolve;
      });
      await this.allSettled;
    }
    await this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }
}

/**
 * The thread side of a WorkerPool: answers each request with `handle`'s answer, or its error's message. The
 * memory `transfer` names in an answer moves to the caller instead of being copied.
 */
export function answerRequests<Request, Answer>(
  handle: (request: Request) => Answer,
  transfer: (answer: Answer) => TransferListItem[] = () => [],
): void {
  const port = parentPort;
  if (!port) return;
  port.on('message', ({ id, request, expiresAtMs }: Envelope<Request>) => {
    let reply: Reply<Answer>;
    let moved: TransferListItem[] = [];
    if (expiresAtMs !== undefined && Date.now() > expiresAtMs) {
      port.postMessage({ id, failure: EXPIRED } satisfies Reply<Answer>);
      return;
    }
    try {
      const answer = handle(request);
      reply = { id, answer };
      moved = transfer(answer);
    } catch (error) {
      reply = { id, failure: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply, moved);
  });
}

/**
 * Lowers the calling thread's scheduling priority, so that on a busy machine the event loop (gate answers)
 * gets the CPU before background work. On Linux the thread becomes SCHED_IDLE (util-linux `chrt`): a niced
 * thread that got the CPU keeps it for its time slice, and the event loop waking for a request waited up to
 * that slice, while an idle-class thread gives way the moment a normal one wakes. Without `chrt` the thread is
 * niced. Linux takes a thread id where setpriority wants a process id; elsewhere the thread keeps its priority.
 */
export function yieldToEventLoop(): void {
  let threadId: number;
  try {
    threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return; // No /proc/thread-self: not Linux.
  }
  setPriority(threadId, BACKGROUND_NICE);
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(threadId)], { stdio: 'ignore', timeout: 5_000 });
  } catch {
    // No chrt: the nice value stands.
  }
}
