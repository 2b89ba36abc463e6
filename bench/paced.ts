/**
 * Open-loop load at a constant arrival rate, wrk2-style: request i is due at start + i/rate whatever became
 * of the earlier ones, and its latency runs from that due time to the end of its answer. A server (or
 * client) stall therefore shows in the latency of every request due during it (coordinated omission
 * corrected), where a closed-loop tool like autocannon sends each second's requests in a burst and never
 * counts the ones a stall kept it from sending.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';

export interface PacedResult {
  /** Answers per second actually completed. */
  rate: number;
  /** Latency from each request's due time, in ms, sorted ascending. */
  latenciesMs: number[];
  /** The client's own lag: the largest delay between a request's due time and its sending (ms). */
  sendLagMs: number;
  non2xx: number;
  errors: number;
  /**
   * Each answered request's due time on the monotonic clock shared by every process (process.hrtime, ms)
   * and its latency, in sending order: a bench can split the requests by what the server was doing when due.
   */
  answered: Array<{ dueMs: number; latencyMs: number }>;
}

/** performance.now() plus this is process.hrtime in ms: the clock /proc and other processes' probes share. */
const hrtimeOffsetMs = () => Number(process.hrtime.bigint()) / 1e6 - performance.now();

/** The q-quantile (0 < q ≤ 1) of ascending values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Sends GET `path` of `origin` at `rate` requests/s for `seconds` over up to `connections` keep-alive
 * connections (more queue inside the pool, their wait counted), then waits for the last answer
 * (bounded: a request still unanswered 10 s after the run ends counts as an error). With `read`, each
 * answer's body is read as text and handed to it with the time it ended (process.hrtime, ms).
 */
export async function pacedLoad(
  url: string,
  rate: number,
  seconds: number,
  connections = 32,
  read?: (body: string, endedMs: number) => void,
): Promise<PacedResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, {
    connections,
    pipelining: 1,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const path = `${target.pathname}${target.search}`;
  const count = Math.round(rate * seconds);
  const latenciesMs: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let sendLagMs = 0;
  const answered: PacedResult['answered'] = [];
  const toHrtime = hrtimeOffsetMs();
  const inFlight = new Set<Promise<void>>();
  const send = (dueMs: number) => {
    sendLagMs = Math.max(sendLagMs, performance.now() - dueMs);
    const request = pool
      .request({ method: 'GET', path })
      .then(async (answer) => {
        if (read) read(await answer.body.text(), performance.now() + toHrtime);
        else await answer.body.dump();
        if (answer.statusCode < 200 || answer.statusCode >= 300) non2xx += 1;
        const latencyMs = performance.now() - dueMs;
        latenciesMs.push(latencyMs);
        answered.push({ dueMs: dueMs + toHrtime, latencyMs });
      })
      .catch(() => {
        errors += 1;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const startMs = performance.now();
  let next = 0;
  // A 1 ms timer wakes the sender; each wake sends every request already due, so a late wake-up delays
  // sends but never skips them (and the delay is charged to their latency).
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (next < count && startMs + (next * 1000) / rate <= now) {
        send(startMs + (next * 1000) / rate);
        next += 1;
      }
      if (next < count) setTimeout(tick, Math.max(0, startMs + (next * 1000) / rate - performance.now()));
      else done();
    };
    tick();
  });
  await Promise.all([...inFlight]);
  const elapsedS = (performance.now() - startMs) / 1000;
  await pool.close();
  latenciesMs.sort((a, b) => a - b);
  return { rate: latenciesMs.length / elapsedS, latenciesMs, sendLagMs, non2xx, errors, answered };
}

/** The garbage collections of a paced client's own heap during its run (its pauses stall its sending). */
export interface ClientGc {
  count: number;
  /** Full (mark-compact) collections. */
  majors: number;
  longestMs: number;
  totalMs: number;
}

/** What a `PacedClientProcess` is told to send: every URL paced at `rate`, all at once. */
export interface PacedOrder {
  urls: string[];
  rate: number;
  seconds: number;
  connections: number;
}

const CLIENT_HEAP_FLAGS = ['--max-semi-space-size=16', '--initial-heap-size=128'];

/** The results of a `PacedClientProcess`'s run, one per URL, and what its own heap cost it meanwhile. */
export interface PacedRun {
  results: PacedResult[];
  clientGc: ClientGc;
}

/**
 * A paced client in a process of its own (bench/pacedClient.ts), for a bench's lifetime: the bench's own process
 * accumulates results and probes, and its full collections (helper threads on both cores) would stall the
 * client's sending. The client keeps nothing between runs (each run's results go to the bench), its heap is sized
 * to need few full collections, and it reports the collections of each run. The URLs of one run are paced at once
 * from its one event loop, so whatever stalls the client or the machine stalls them all alike, and a ratio between
 * them is a ratio under the same conditions. Its first run warms its code (JIT, undici's parser): the first
 * figures of a fresh client are its own start-up.
 */
export class PacedClientProcess {
  /** The client's exit code, once it has exited. */
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ReturnType<typeof fork>) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts the client and waits until it is ready to send. */
  static async start(): Promise<PacedClientProcess> {
    const child = fork(join(import.meta.dirname, 'pacedClient.ts'), [], {
      // A young generation and a first heap large enough that runs' garbage (undici's, a few KB a request)
      // seldom needs a full collection of the client's heap.
      execArgv: ['--import', 'tsx', ...CLIENT_HEAP_FLAGS],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((ready, fail) => {
      child.once('message', () => ready());
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`paced client exited with ${code} before it was ready`)));
    });
    child.removeAllListeners();
    return new PacedClientProcess(child);
  }

  /** Paces every URL at once (each as `pacedLoad`) and returns their results in order. */
  run(urls: string[], rate: number, seconds: number, connections = 32): Promise<PacedRun> {
    const { child } = this;
    return new Promise((done, fail) => {
      const settle = () => {
        child.off('message', answered);
        child.off('exit', exited);
      };
      const answered = (run: unknown) => {
        settle();
        done(run as PacedRun);
      };
      const exited = (code: number | null) => {
        settle();
        fail(new Error(`paced client exited with ${code} before its result`));
      };
      child.on('message', answered);
      child.on('exit', exited);
      child.send({ urls, rate, seconds, connections } satisfies PacedOrder);
    });
  }

  /** Ends the client (it exits once disconnected). */
  async stop(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    await this.exited;
  }
}
