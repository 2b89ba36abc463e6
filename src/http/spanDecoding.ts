import { SpansRejected } from '../ingest/zipkin/span.js';
import { WorkerLost, WorkerTimedOut } from '../workers.js';
import { HttpError } from './errors.js';

/** A machine too busy to parse a batch within the bound will not be free a second later. */
const PARSER_BUSY_RETRY_SECONDS = 5;

/**
 * Runs a span decode (Zipkin or OTLP) and turns its failures into answers: a refused body into its 4xx, a lost
 * parsing thread into 503 with Retry-After (nothing of the batch was counted; a new thread has started, so the
 * reporter may send it again), a batch no thread answered in time (a machine too busy to give the idle-class
 * threads CPU) into 503 with a longer Retry-After.
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
    if (error instanceof WorkerTimedOut) {
      throw new HttpError(
        503,
        'parser_busy',
        `no parsing thread answered in time (${error.message}: the machine is busy); nothing of this batch was stored, send it again`,
        undefined,
        { 'retry-after': String(PARSER_BUSY_RETRY_SECONDS) },
      );
    }
    throw error;
  }
}
