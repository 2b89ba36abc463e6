import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { createGunzip } from 'node:zlib';
import { WORKERS_AVAILABLE, WorkerPool } from '../../workers.js';
import type { SeriesDelta } from '../aggregate.js';
import type { IngestPipeline } from '../pipeline.js';
import { LOG_FORMATS } from './formats.js';
import type { ImportChunk, ImportWorkerSetup } from './importWorker.js';
import { addSummary, emptySummary, ingestLines, type LineContext, type LineSummary } from './lines.js';

/** Observations per committed batch: big enough that commits are rare, small enough to bound memory. */
const BATCH_OBSERVATIONS = 250_000;
const CHUNK_BYTES = 4 * 1024 * 1024;

async function isGzip(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await file.close();
  }
}

/** The file (gunzipped when it is gzip) in chunks of whole lines, each without its final newline. */
async function* lineChunks(path: string, onBytes: (bytes: number) => void): AsyncGenerator<Buffer> {
  const gzip = await isGzip(path);
  // Listeners are attached in the same tick as the stream is made, so no chunk flows past unseen.
  const raw = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  let input: NodeJS.ReadableStream = raw;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    raw.on('data', (chunk) => onBytes(chunk.length));
    raw.on('error', (error) => gunzip.destroy(error));
    input = raw.pipe(gunzip);
  }
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    if (!gzip) onBytes(chunk.length);
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const lastNewline = bytes.lastIndexOf(10);
    if (lastNewline < 0) {
      carry = bytes;
      continue;
    }
    yield bytes.subarray(0, lastNewline);
    carry = bytes.subarray(lastNewline + 1);
  }
  if (carry.length > 0) yield carry;
}

interface ChunkResult {
  series: Map<string, SeriesDelta>;
  observations: number;
  summary: LineSummary;
  lines: number;
}

/** Parsing threads, one per core: chunks go out to the least busy and come back in file order. */
class ParsePool {
  private readonly pool: WorkerPool<ImportChunk, ChunkResult>;

  constructor(count: number, setup: ImportWorkerSetup) {
    this.pool = new WorkerPool(new URL('./importWorker.js', import.meta.url), count, setup);
  }

  parse(chunk: Buffer): Promise<ChunkResult> {
    const bytes = new Uint8Array(chunk);
    return this.pool.run({ bytes }, [bytes.buffer]);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Reads a whole access-log file (gzip'ed or not, told by its magic bytes) into the store, committing every
 * BATCH_OBSERVATIONS lines. Files of more than one chunk are parsed on every core; the buckets they
 * produce are merged and committed in this thread. `onBytes` reports progress in bytes as stored on disk.
 */
export async function importLogFile(
  path: string,
  format: string,
  context: Omit<LineContext, 'position'>,
  pipeline: IngestPipeline,
  onBytes: (bytes: number) => void = () => {},
): Promise<LineSummary> {
  const summary = emptySummary();
  const position = { lines: 0 };
  let batch = pipeline.newBatch();
  const commitWhenFull = async () => {
    if (batch.observations < BATCH_OBSERVATIONS) return;
    await pipeline.submit(batch);
    batch = pipeline.newBatch();
  };
  const { size } = await stat(path);
  const threads = WORKERS_AVAILABLE ? Math.min(availableParallelism(), 4) : 1;
  if (size <= CHUNK_BYTES || threads < 2) {
    const parse = LOG_FORMATS[format]!;
    for await (const chunk of lineChunks(path, onBytes)) {
      addSummary(summary, ingestLines(chunk.toString('utf8'), parse, { ...context, position }, batch));
      await commitWhenFull();
    }
  } else {
    const services = [
      context.service,
      context.settings?.service,
      ...Object.values(context.settings?.hosts ?? {}),
    ];
    const templates: Record<string, readonly string[]> = {};
    for (const service of services) if (service) templates[service] = context.routes.templatesOf(service);
    const { source, service, settings, statusFrom } = context;
    const pool = new ParsePool(threads, {
      format,
      context: { source, service, settings, statusFrom },
      templates,
      thresholdsUs: batch.thresholdsUs,
      countingRules: batch.countingRules,
      accepted: batch.accepted,
    });
    try {
      const inFlight: Array<Promise<ChunkResult>> = [];
      const take = async (result: ChunkResult) => {
        batch.mergeSeries(result.series, result.observations);
        for (const problem of result.summary.problems) problem.line += position.lines;
        addSummary(summary, result.summary);
        position.lines += result.lines;
        await commitWhenFull();
      };
      for await (const chunk of lineChunks(path, onBytes)) {
        inFlight.push(pool.parse(chunk));
        if (inFlight.length > threads) await take(await inFlight.shift()!);
      }
      for (const result of inFlight) await take(await result);
    } finally {
      await pool.close();
    }
  }
  await pipeline.submit(batch);
  return summary;
}
