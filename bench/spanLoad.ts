/**
 * The gate benches' span load: Zipkin spans posted to a sloguard at BENCH_SPANS_PER_SECOND (50,000) from a process
 * of its own, as they would come from other machines: sharing the measuring client's event loop, sending 15 MB/s
 * would delay the timing of the gate requests themselves. It runs at a lower priority for the same reason: on other
 * machines it would not take CPU from the service being measured. It runs until `stop()`, or until its bench's
 * process ends (its stdin closes), and reports what it sent.
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { ingestSpans } from './gateTargets.js';
import { envInt } from './method.js';

const SPANS_PER_SECOND = envInt('BENCH_SPANS_PER_SECOND', 50_000);
/** Only a bound should neither `stop()` nor the end of its bench reach the load. */
const LIMIT_SECONDS = 3_600;

/** What the load sent: batches answered 2xx and not, over how many seconds. */
export interface SpanLoadSent {
  ok: number;
  non2xx: number;
  duration: number;
}

export interface SpanLoad {
  pid: number;
  /** Stops the load and returns what it sent (the same answer when called again). */
  stop(): Promise<SpanLoadSent>;
}

/** Starts the span load against the sloguard at `url` and waits until it is sending. */
export async function startSpanLoad(url: string): Promise<SpanLoad> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, url], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (child.pid !== undefined) setPriority(child.pid, 10);
  let out = '';
  let started: () => void;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('started\n')) started();
  });
  const finished = new Promise<SpanLoadSent>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0
        ? done(JSON.parse(out.slice('started\n'.length)) as SpanLoadSent)
        : fail(new Error(`span load exited with ${code}`)),
    );
  });
  await Promise.race([running, finished]);
  return {
    pid: child.pid!,
    stop: () => {
      child.stdin.end();
      return finished;
    },
  };
}

if (import.meta.filename === process.argv[1]) {
  const stop = new AbortController();
  process.stdin.once('end', () => stop.abort()).resume();
  const loading = ingestSpans(process.argv[2]!, LIMIT_SECONDS, SPANS_PER_SECOND, stop.signal);
  process.stdout.write('started\n');
  const result = await loading;
  process.stdout.write(
    JSON.stringify({
      ok: result['2xx'],
      non2xx: result.non2xx,
      duration: result.duration,
    } satisfies SpanLoadSent),
  );
}
