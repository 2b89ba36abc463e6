import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { IngestPipeline } from '../pipeline.js';
import type { LineParser } from './format.js';
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

function countLines(text: string): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines += 1;
  return lines;
}

/**
 * Reads a whole access-log file (gzip'ed or not, told by its magic bytes) into the store, committing every
 * BATCH_OBSERVATIONS lines. `onBytes` reports progress in bytes of the file as stored on disk.
 */
export async function importLogFile(
  path: string,
  parse: LineParser,
  context: Omit<LineContext, 'firstLineNumber'>,
  pipeline: IngestPipeline,
  onBytes: (bytes: number) => void = () => {},
): Promise<LineSummary> {
  const summary = emptySummary();
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
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let nextLine = 1;
  let batch = pipeline.newBatch();
  const take = (text: string) => {
    addSummary(summary, ingestLines(text, parse, { ...context, firstLineNumber: nextLine }, batch));
    nextLine += countLines(text) + 1;
  };
  for await (const chunk of input) {
    if (!gzip) onBytes((chunk as Buffer).length);
    const text = carry + decoder.write(chunk as Buffer);
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      carry = text;
      continue;
    }
    take(text.slice(0, lastNewline));
    carry = text.slice(lastNewline + 1);
    if (batch.observations >= BATCH_OBSERVATIONS) {
      await pipeline.submit(batch);
      batch = pipeline.newBatch();
    }
  }
  const rest = carry + decoder.end();
  if (rest !== '') take(rest);
  await pipeline.submit(batch);
  return summary;
}
