import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/** Decompressed bodies may be this many times the wire limit; past that the gzip is treated as a bomb. */
export const MAX_GZIP_RATIO = 8;

/** Undoes `Content-Encoding: gzip` within a size limit; other encodings are refused. */
export function decodeBody(body: Buffer | undefined, encoding: string | undefined, maxBytes: number): Buffer {
  const raw = body ?? Buffer.alloc(0);
  const coding = (encoding ?? 'identity').trim().toLowerCase();
  if (coding === 'identity' || coding === '') return raw;
  if (coding !== 'gzip') {
    throw new HttpError(
      415,
      'unsupported_encoding',
      `Content-Encoding "${coding}" is not supported; use gzip`,
    );
  }
  try {
    return gunzipSync(raw, { maxOutputLength: maxBytes * MAX_GZIP_RATIO });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(
        413,
        'body_too_large',
        `decompressed body exceeds ${maxBytes * MAX_GZIP_RATIO} bytes`,
      );
    }
    throw new HttpError(400, 'invalid_gzip', `body is not valid gzip: ${(error as Error).message}`);
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
