import { SpansRejected } from '../ingest/zipkin/span.js';
import { WorkerLost } from '../workers.js';
import { HttpError } from './errors.js';

/**
 * Runs a span decode (Zipkin or OTLP) and turns its failures into answers: a refused body into its 4xx, a lost
 * parsing thread into 503 with Retry-After (nothing of the batch was counted; a new thread has started, so the
 * reporter may send it again).
 */
export async function decodedSpans<T>(decode: () => Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (error) {
    if (error instanceof SpansRejected)
      throw new HttpError(error.status, error.code, error.message, error.path);
    if (error instanceof WorkerLost) {
      throw new HttpError(
        503,
        'parser_restarted',
        `the thread parsing this batch stopped (${error.message}); nothing of it was stored, send it again`,
        undefined,
        { 'retry-after': '1' },
      );
    }
    throw error;
  }
}
