import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { createGunzip } from 'node:zlib';
import { THREADS_BY_DEFAULT, WorkerPool } from '../../workers.js';
import type { IngestPipeline } from '../pipeline.js';
import { type ChunkReader, type ChunkSums, sumChunk } from './chunkSums.js';
import { BYTES_PARSERS, LOG_FORMATS } from './formats.js';
import type { ImportChunk, ImportWorkerSetup, ParsedChunk } from './importWorker.js';
import {
  addSummary,
  emptySummary,
  ingestBytes,
  type LineContext,
  type LineSummary,
  MAX_LINE_CHARS,
} from './lines.js';
import { MinuteTable, type TakenRows } from './minuteTable.js';
import { PathRoutes } from './pathRoutes.js';

/**
 * Observations per committed batch: big enough that commits are rare, small enough to bound memory. A 1M-line
 * import peaked at 200-220 MB with 250,000 and at 180 MB with 50,000 (or 10,000), at the same speed, when the
 * batch counted every line into maps. With lines counted in the MinuteTable, the batch's maps are made only for
 * the commit, and the fewer they are, the fewer the commit's garbage collections carry into the old
 * generation: 107-117 MB and 1.41 s of CPU with 10,000 against 138-154 MB and 1.50 s with 50,000 (#23).
 */
const BATCH_OBSERVATIONS = 10_000;
/**
 * Bytes read and parsed at a time. Every chunk is a buffer and a string that wait for the garbage collector;
 * at 4 MiB they held 40-60 MB of an import's peak RSS, at 1 MiB about 15 MB, at the same throughput (#23).
 */
const CHUNK_BYTES = 1024 * 1024;

async function isGzip(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await file.close();
  }
}

/**
 * Whole lines of the file, each chunk without its final newline; `end` is the text offset just past it.
 * `bytes` lies in a buffer the next chunk reuses: copy what is kept before asking for the next.
 */
interface LineChunk {
  bytes: Buffer;
  end: number;
}

/**
 * Where a chunk's bytes come from: `fill` puts up to `length` of the next bytes at `into[at..]` and answers
 * how many (0 at the end).
 */
interface ByteSource {
  fill(into: Buffer, at: number, length: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A plain file from `from`, read straight into the line buffer, synchronously: from the page cache a MiB
 * takes ~0.15 ms, while a read on the thread pool waits for that thread to be scheduled, which on a loaded
 * machine was idle time of the import's own (#23). A file on a slow disk blocks this thread as long as the
 * read would have been awaited: the import has nothing else to do meanwhile.
 */
function plainSource(path: string, from: number, onBytes: (bytes: number) => void): ByteSource {
  onBytes(from);
  const fd = openSync(path, 'r');
  let position = from;
  return {
    async fill(into, at, length) {
      const bytesRead = readSync(fd, into, at, length, position);
      position += bytesRead;
      onBytes(bytesRead);
      return bytesRead;
    },
    async close() {
      closeSync(fd);
    },
  };
}

/** A gzip file's text from text offset `from`: inflated from its start, the first `from` bytes dropped. */
async function* gunzippedBytes(
  path: string,
  from: number,
  chunkBytes: number,
  onBytes: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  // Listeners are attached in the same tick as the stream is made, so no chunk flows past unseen.
  const raw = createReadStream(path, { highWaterMark: chunkBytes });
  const gunzip = createGunzip({ chunkSize: chunkBytes });
  raw.on('data', (chunk) => onBytes(chunk.length));
  raw.on('error', (error) => gunzip.destroy(error));
  let toDrop = from;
  for await (const chunk of raw.pipe(gunzip) as AsyncIterable<Buffer>) {
    const dropped = Math.min(toDrop, chunk.length);
    toDrop -= dropped;
    if (dropped < chunk.length) yield chunk.subarray(dropped);
  }
}

/** A gzip file's text as a ByteSource: each inflated piece copied into the line buffer as it has room. */
function gunzippedSource(
  path: string,
  from: number,
  chunkBytes: number,
  onBytes: (bytes: number) => void,
): ByteSource {
  const pieces = gunzippedBytes(path, from, chunkBytes, onBytes);
  let piece: Buffer | undefined;
  return {
    async fill(into, at, length) {
      if (!piece || piece.length === 0) {
        const next = await pieces.next();
        if (next.done) return 0;
        piece = next.value;
      }
      const copied = piece.copy(into, at, 0, Math.min(length, piece.length));
      piece = piece.subarray(copied);
      return copied;
    },
    async close() {
      await pieces.return(undefined);
    },
  };
}

/**
 * Bytes of a line kept when it runs past a whole chunk without ending: enough for the parser to see it is
 * longer than MAX_LINE_CHARS (and refuse it once, as line_too_long); the rest is skipped, so a file with no
 * newline cannot grow the buffer without bound.
 */
const LONG_LINE_KEPT_BYTES = 4 * MAX_LINE_CHARS + 4;

/**
 * The file (gunzipped when it is gzip) in chunks of whole lines, from text offset `from` (a line start). The
 * lines are gathered in one buffer, which grows only for a line longer than it, up to a bound.
 */
export async function* lineChunks(
  path: string,
  from: number,
  chunkBytes: number,
  onBytes: (bytes: number) => void,
): AsyncGenerator<LineChunk> {
  const source = (await isGzip(path))
    ? gunzippedSource(path, from, chunkBytes, onBytes)
    : plainSource(path, from, onBytes);
  let buffer = Buffer.allocUnsafe(2 * chunkBytes);
  /** Bytes of an unfinished line at the buffer's start, and the text offset of its first byte. */
  let carried = 0;
  let carryAt = from;
  /** Bytes of the unfinished line skipped past LONG_LINE_KEPT_BYTES; they still count in the text offset. */
  let skipped = 0;
  try {
    for (;;) {
      if (carried + chunkBytes > buffer.length) {
        const bigger = Buffer.allocUnsafe(2 * (carried + chunkBytes));
        buffer.copy(bigger, 0, 0, carried);
        buffer = bigger;
      }
      const read = await source.fill(buffer, carried, chunkBytes);
      if (read === 0) break;
      const filled = carried + read;
      const lastNewline = buffer.lastIndexOf(10, filled - 1);
      if (lastNewline < 0) {
        carried = Math.min(filled, Math.max(chunkBytes, LONG_LINE_KEPT_BYTES));
        skipped += filled - carried;
        continue;
      }
      carryAt += skipped;
      skipped = 0;
      yield { bytes: buffer.subarray(0, lastNewline), end: carryAt + lastNewline + 1 };
      carried = buffer.copy(buffer, 0, lastNewline + 1, filled);
      carryAt += lastNewline + 1;
    }
  } finally {
    await source.close();
  }
  if (carried > 0) yield { bytes: buffer.subarray(0, carried), end: carryAt + skipped + carried };
}

/**
 * A parsing thread's young generation: V8's default (up to 48 MB, kept once grown) is most of what a thread
 * adds to an import's peak RSS; a chunk's garbage fits in much less (#23, RSS ≤ 150 MB).
 */
const THREAD_YOUNG_GENERATION_MB = 8;

/**
 * Chunks sent to each parsing thread before the oldest is awaited: enough that a thread still has work while
 * this thread commits a batch (with one, each waited on the other about a third of the time), few enough to
 * bound memory: a chunk is a CHUNK_BYTES copy and its rows (~380 KB of the bench's file). With 4, `--threads 1`
 * peaked 5-10 MB higher at the same lines/s (#23).
 */
const IN_FLIGHT_PER_THREAD = 2;
/**
 * Chunks summed on this thread while the oldest sent is not back, before it is awaited: the importing
 * thread parses too when the threads fall behind (its own work, merging and committing, is a third of theirs;
 * on a busy machine a thread may get little of a core). Each holds only its rows, not its bytes; with 8,
 * `--threads 2` and 3 peaked 4-13 MB higher at the same lines/s (#23).
 */
const SUMMED_HERE_AT_MOST = 4;

/** Parsing threads: chunks go out to the least busy and come back in file order. */
class ParsePool {
  private readonly pool: WorkerPool<ImportChunk, ParsedChunk>;
  /**
   * Buffers of chunks the threads gave back, and of rows added (`giveBack`), for the next chunks. Fresh ones,
   * 1 MiB and ~380 KB per chunk of the bench's file, each freed on another thread than the one that made it,
   * were kept in malloc's arenas (one grew to 14 MB; with glibc's mmap threshold fixed it did not): #23. There
   * are at most as many as chunks in flight.
   */
  private readonly spareBytes: ArrayBuffer[] = [];
  private readonly spareRows: ArrayBuffer[] = [];

  constructor(count: number, setup: ImportWorkerSetup) {
    this.pool = new WorkerPool(new URL('./importWorker.js', import.meta.url), count, setup, {
      resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
    });
  }

  async parse(chunk: Buffer): Promise<ChunkSums> {
    // A copy, moved to the thread and back: the chunk's buffer is read into again.
    let buffer = this.spareBytes.pop();
    if (!buffer || buffer.byteLength < chunk.length) buffer = new ArrayBuffer(chunk.length);
    const bytes = new Uint8Array(buffer, 0, chunk.length);
    bytes.set(chunk);
    const spareRows = this.spareRows.pop();
    const parsed = await this.pool.run({ bytes, spareRows }, spareRows ? [buffer, spareRows] : [buffer]);
    this.spareBytes.push(parsed.bytes.buffer as ArrayBuffer);
    return parsed.sums;
  }

  /** The buffer of rows added, for a next chunk's rows; none while there is none. */
  takeSpareRows(): ArrayBuffer | undefined {
    return this.spareRows.pop();
  }

  /** Keeps the buffer of rows added (nothing reads them any more) for a next chunk's rows. */
  giveBack(rows: TakenRows): void {
    this.spareRows.push(rows.cells.buffer as ArrayBuffer);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Parsing threads: one per core beside the importing thread, which reads, merges and commits; none below 3
 * cores, at most 2. On 2 cores one thread cost more CPU per line and gained lines per second only while the
 * second core was idle (`npm run bench -- lines`, docs/benchmarks.md), so there it is asked for (`--threads 1`).
 * Each thread costs RSS (the first ~40 MB, each more 13-27 MB): 2 keep an import of any size within #23's 150 MB
 * (128-133 MB on the 1M-line bench file), 3 do not (148-155 MB); more are asked for with `--threads N`. The
 * default for `cores` cores.
 */
export const defaultParsingThreads = (cores: number) => (cores < 3 ? 0 : Math.min(cores - 1, 2));

/** Where an import stands: text offset and lines committed, and what this run made of its lines. */
export interface ImportProgress {
  offset: number;
  lines: number;
  summary: LineSummary;
}

export interface ImportOptions {
  /** Where an earlier run stopped (a line start), and the lines before it. */
  from?: { offset: number; lines: number };
  /** Runs inside each commit's transaction with the progress it commits (the import's record of the file). */
  committed?: (progress: ImportProgress) => void;
  /** Progress in bytes as stored on disk. */
  onBytes?: (bytes: number) => void;
  /** Parsing threads for a file of more than one chunk; with 0 the file is parsed on this thread. */
  threads?: number;
}

/**
 * Reads an access-log file (gzip'ed or not, told by its magic bytes) into the store from `from`, committing
 * every BATCH_OBSERVATIONS lines (at most half the write queue) with `committed`'s record of how far it got.
 * Files of more than one chunk are parsed on `threads` worker threads; the buckets they produce are merged and committed
 * in this thread. Returns what this run made of the lines it read.
 */
export async function importLogFile(
  path: string,
  format: string,
  context: Omit<LineContext, 'position' | 'pathRoutes'>,
  pipeline: IngestPipeline,
  options: ImportOptions = {},
): Promise<LineSummary> {
  const {
    from = { offset: 0, lines: 0 },
    committed,
    onBytes = () => {},
    threads = THREADS_BY_DEFAULT ? defaultParsingThreads(availableParallelism()) : 0,
  } = options;
  const summary = emptySummary();
  const position = { lines: from.lines };
  let offset = from.offset;
  // A commit holds at most half the write queue, and one more chunk cannot take it past the whole.
  const batchObservations = Math.min(BATCH_OBSERVATIONS, Math.floor(pipeline.maxQueued / 2));
  const chunkBytes = pipeline.chunkBytesAtMost(CHUNK_BYTES);
  let batch = pipeline.newBatch();
  const minuteTable = new MinuteTable(context.source, batch.thresholdsUs);
  const commit = async () => {
    // The store writes the table's rows straight from it; nothing is counted until the commit is over.
    minuteTable.lendRowsTo(batch);
    const progress: ImportProgress = { offset, lines: position.lines, summary: { ...summary } };
    if (committed) batch.alsoInTransaction(() => committed(progress));
    // Written now: the group commit's wait for other writers' batches (COMMIT_SPACING_MS) is idle time here,
    // where nothing else writes (#23).
    const written = pipeline.submit(batch);
    pipeline.flush();
    try {
      await written;
    } finally {
      minuteTable.empty();
    }
    batch = pipeline.newBatch();
  };
  const commitWhenFull = async () => {
    if (batch.observations + minuteTable.observations >= batchObservations) await commit();
  };
  const { size } = await stat(path);
  const parse = LOG_FORMATS[format]!;
  const fast = BYTES_PARSERS[format];
  const pathRoutes = new PathRoutes(context.routes);
  if (size <= chunkBytes || threads < 1) {
    for await (const chunk of lineChunks(path, from.offset, chunkBytes, onBytes)) {
      const lineContext = { ...context, pathRoutes, minuteTable, position };
      addSummary(summary, ingestBytes(chunk.bytes, parse, fast, lineContext, batch));
      offset = chunk.end;
      await commitWhenFull();
    }
  } else {
    const reader: ChunkReader = {
      parse,
      fast,
      context: { ...context, pathRoutes },
      thresholdsUs: batch.thresholdsUs,
      countingRules: batch.countingRules,
      accepted: batch.accepted,
    };
    const services = [
      context.service,
      context.settings?.service,
      ...Object.values(context.settings?.hosts ?? {}),
    ];
    const templates: Record<string, readonly string[]> = {};
    for (const service of services) if (service) templates[service] = context.routes.templatesOf(service);
    const { source, service, settings, statusFrom } = context;
    /** Where chunks summed here ahead of their turn are counted, before their rows wait in `inFlight`. */
    const aheadTable = new MinuteTable(context.source, batch.thresholdsUs);
    const pool = new ParsePool(threads, {
      format,
      context: { source, service, settings, statusFrom },
      templates,
      thresholdsUs: batch.thresholdsUs,
      countingRules: batch.countingRules,
      accepted: batch.accepted,
    });
    try {
      /** Chunks in file order, summed or being summed; `done` once their sums are here. */
      const inFlight: Array<{ result: Promise<ChunkSums> | ChunkSums; end: number; done: boolean }> = [];
      const take = async ({ result, end }: (typeof inFlight)[number]) => {
        const parsed = await result;
        minuteTable.addRows(batch, parsed.rows);
        pool.giveBack(parsed.rows);
        batch.mergeSeries(parsed.series, parsed.observations, true);
        for (const problem of parsed.summary.problems) problem.line += position.lines;
        addSummary(summary, parsed.summary);
        position.lines += parsed.lines;
        offset = end;
        await commitWhenFull();
      };
      const sent = IN_FLIGHT_PER_THREAD * threads;
      for await (const chunk of lineChunks(path, from.offset, chunkBytes, onBytes)) {
        while (inFlight[0]?.done) await take(inFlight.shift()!);
        if (inFlight.length >= sent && inFlight.length < sent + SUMMED_HERE_AT_MOST) {
          inFlight.push({
            result: sumChunk(chunk.bytes, reader, aheadTable, pool.takeSpareRows()),
            end: chunk.end,
            done: true,
          });
          continue;
        }
        if (inFlight.length >= sent) await take(inFlight.shift()!);
        const pending = { result: pool.parse(chunk.bytes), end: chunk.end, done: false };
        pending.result.then(
          () => {
            pending.done = true;
          },
          () => {},
        );
        inFlight.push(pending);
      }
      for (const next of inFlight) await take(next);
    } finally {
      await pool.close();
    }
  }
  await commit();
  return summary;
}
