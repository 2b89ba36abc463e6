import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { errorCodes, type FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/** Decompressed bodies may be this many times the wire limit; past that the gzip is treated as a bomb. */
export const MAX_GZIP_RATIO = 8;

/** The most bytes a gzip'ed log body may inflate to. */
function maxInflatedBytes(maxBytes: number): number {
  return maxBytes * MAX_GZIP_RATIO;
}

/** Bodies are read in pieces of this size, so no piece holds the event loop for long. */
const CHUNK_BYTES = 64 * 1024;

/** Whether the body is gzip'ed (true) or sent as is (false); any other coding is refused. */
export function isGzip(encoding: string | undefined): boolean {
  const coding = (encoding ?? 'identity').trim().toLowerCase();
  if (coding === 'identity' || coding === '') return false;
  if (coding !== 'gzip') {
    throw new HttpError(
      415,
      'unsupported_encoding',
      `Content-Encoding "${coding}" is not supported; use gzip`,
    );
  }
  return true;
}

function inflatedTooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    'body_too_large',
    `decompressed body exceeds ${maxInflatedBytes(maxBytes)} bytes; send smaller batches`,
  );
}

function invalidGzip(error: unknown): HttpError {
  return new HttpError(400, 'invalid_gzip', `body is not valid gzip: ${(error as Error).message}`);
}

/**
 * The body in pieces of at most CHUNK_BYTES, inflated piece by piece on libuv's threads when gzip'ed, so a
 * small gzip of a huge text never sits whole in memory nor inflates on the event loop. Past
 * maxBytes × MAX_GZIP_RATIO inflated bytes the body is refused (413).
 */
export async function* bodyChunks(
  body: Buffer | undefined,
  encoding: string | undefined,
  maxBytes: number,
): AsyncGenerator<Buffer> {
  const raw = body ?? Buffer.alloc(0);
  if (!isGzip(encoding)) {
    for (let at = 0; at < raw.length; at += CHUNK_BYTES) yield raw.subarray(at, at + CHUNK_BYTES);
    return;
  }
  const gunzip = Readable.from([raw], { objectMode: false }).pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
  let inflated = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      if (inflated > maxInflatedBytes(maxBytes)) throw inflatedTooLarge(maxBytes);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw invalidGzip(error);
  } finally {
    gunzip.destroy();
  }
}

/**
 * In the calling plugin's scope only: every body arrives as raw bytes whatever its content type says (log
 * shippers send form encoding, browsers text/plain), for the route to decode itself.
 */
export function takeRawBodies(app: FastifyInstance, maxBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) =>
    done(null, body),
  );
}

/**
 * As takeRawBodies, but a body arrives as the list of pieces read from the socket, not copied into one buffer:
 * for a route that hands the body to a worker thread, which can take the pieces' memory as they are (moving
 * it, not copying it, and leaving the event loop's heap no external memory to account for until its next
 * collection). The same limits and errors as fastify's own reading: 413 past `maxBytes` (by Content-Length
 * or as read), 400 when the body ends short of or past its Content-Length.
 */
export function takeRawChunks(app: FastifyInstance, maxBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const contentLength = Number(request.headers['content-length']);
    if (contentLength > maxBytes) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    const onData = (chunk: Buffer | string) => {
      const piece = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += piece.length;
      if (received > maxBytes) {
        stop();
        done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
        return;
      }
      chunks.push(piece);
    };
    const onEnd = (error?: Error & { statusCode?: number }) => {
      stop();
      if (error) {
        if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
        done(error, undefined);
      } else if (!Number.isNaN(contentLength) && received !== contentLength) {
        done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), undefined);
      } else done(null, chunks);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  });
}
