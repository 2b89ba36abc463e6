import { availableParallelism } from 'node:os';
import { THREADS_BY_DEFAULT, WorkerPool } from '../../workers.js';
import type { BatchAggregate } from '../aggregate.js';
import type { OtlpTraceSummary } from '../otlp/spans.js';
import type { ServiceRoutes } from '../routeTemplates.js';
import {
  decodeSpansInto,
  type SpanDecodeAnswer,
  type SpanDecodeRequest,
  type SpanDecodeSetup,
} from './decode.js';
import type { SpanSummary } from './observe.js';
import { mergePacked } from './packed.js';
import { SpansRejected } from './span.js';

/**
 * How long a batch may wait for a parsing thread's answer. The threads run in the idle class, so on a machine
 * kept busy by other processes they may get no CPU for a long time; past this the batch is answered 503 with
 * Retry-After (a reporter that retries sends it again, one that does not would have timed out anyway: the
 * OpenTelemetry OTLP exporter gives up after 10 s) instead of holding the request without bound.
 */
export const SPAN_PARSE_MAX_WAIT_MS = 10_000;

/** Smaller bodies (a few dozen spans) cost less to parse here than to hand to a thread. */
const THREAD_MIN_BYTES = 16 * 1024;

/** The pieces as one buffer (the piece itself when there is one). */
function whole(pieces: readonly Buffer[], length: number): Buffer {
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, length);
}

/**
 * A piece whose memory can move to a thread: the piece itself when it owns its whole memory (the socket's
 * reads do), else a copy (a piece sharing its memory with others, e.g. a slice of a pooled buffer).
 */
function movable(piece: Buffer): Uint8Array {
  const owned =
    piece.buffer instanceof ArrayBuffer &&
    piece.byteOffset === 0 &&
    piece.byteLength === piece.buffer.byteLength;
  return owned ? piece : new Uint8Array(piece);
}

/**
 * Span batches of hundreds of spans take a millisecond or more to parse; on the event loop that time is
 * added to every gate answer waiting behind them. Big batches are therefore parsed on worker threads, which
 * send back only their per-series bucket sums; the series caps apply when those are committed, on the main
 * thread. There is a thread per core: the event loop needs a fraction of a core per batch (answer and
 * commit), so with one thread fewer a core idles while the other parses; the threads run at a lower priority,
 * so the event loop still gets a core the moment it has work.
 */
export class SpanDecoder {
  private pool: WorkerPool<SpanDecodeRequest, SpanDecodeAnswer> | undefined;

  constructor(
    private readonly routes: ServiceRoutes,
    setup: SpanDecodeSetup,
    /** Parsing threads; none parses every batch on the event loop. */
    private readonly threads = THREADS_BY_DEFAULT ? Math.min(4, availableParallelism()) : 0,
    /** The threads' entry module (tests start one that can fail on cue). */
    private readonly entry = new URL('./decodeWorker.js', import.meta.url),
    private readonly maxWaitMs = SPAN_PARSE_MAX_WAIT_MS,
  ) {
    this.pool = this.newPool(setup);
  }

  private newPool(setup: SpanDecodeSetup) {
    return this.threads > 0
      ? new WorkerPool<SpanDecodeRequest, SpanDecodeAnswer>(this.entry, this.threads, setup)
      : undefined;
  }

  /**
   * After a reload: new threads with the new templates and thresholds take the next batches; the old ones
   * finish the batches they hold, then stop.
   */
  async reconfigure(setup: SpanDecodeSetup): Promise<void> {
    const old = this.pool;
    this.pool = this.newPool(setup);
    await old?.drain();
  }

  /**
   * Adds the body's spans to `batch`; throws SpansRejected when Zipkin would refuse the batch, WorkerLost when
   * the thread parsing it stopped first (nothing of the batch is counted; a new thread takes its place),
   * WorkerTimedOut when no thread answered within `maxWaitMs` (nothing of it is counted either). A
   * gzip'ed body (inflated within `gzipLimit` bytes) always goes to a thread: however small, it may inflate to
   * a lot.
   */
  async decode(
    body: Buffer | readonly Buffer[],
    protobuf: boolean,
    gzipLimit: number | undefined,
    batch: BatchAggregate,
    otlp = false,
  ): Promise<SpanSummary> {
    const pieces = Buffer.isBuffer(body) ? [body] : body;
    const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
    if (!this.pool || (gzipLimit === undefined && length < THREAD_MIN_BYTES))
      return decodeSpansInto(whole(pieces, length), protobuf, gzipLimit, this.routes, batch, otlp);
    const moved = pieces.map(movable);
    const answer = await this.pool.run(
      { body: moved, protobuf, accepted: batch.accepted, gzipLimit, otlp },
      moved.map((piece) => piece.buffer as ArrayBuffer),
      this.maxWaitMs,
    );
    if ('rejected' in answer) {
      const { message, path, status, code } = answer.rejected;
      throw new SpansRejected(message, path, status, code);
    }
    mergePacked(batch, answer.packed);
    return answer.summary;
  }

  /** The same for an OTLP export (otlp/decode.ts), on the same threads; its summary counts refused spans. */
  async decodeOtlp(
    body: Buffer | readonly Buffer[],
    protobuf: boolean,
    gzipLimit: number | undefined,
    batch: BatchAggregate,
  ): Promise<OtlpTraceSummary> {
    return (await this.decode(body, protobuf, gzipLimit, batch, true)) as OtlpTraceSummary;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
