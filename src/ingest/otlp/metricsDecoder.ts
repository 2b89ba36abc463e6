import { THREADS_BY_DEFAULT, WorkerPool } from '../../workers.js';
import { SpansRejected } from '../zipkin/span.js';
import { readJsonMetrics } from './jsonMetrics.js';
import type { HistogramPoint } from './metricPoints.js';
import { MetricsRejected, type PointAt } from './metricReading.js';
import { readProtoMetrics } from './protoMetrics.js';

/** The data points of an export as read, each with where it sat; a string is why it was refused. */
export type ReadPoints = Array<[PointAt, HistogramPoint | string]>;

export interface MetricReadRequest {
  body: Uint8Array;
  protobuf: boolean;
}

export type MetricReadAnswer =
  | { points: ReadPoints }
  | { rejected: { message: string; path: string; status: number; code: string } };

/** Reads an export's points; throws MetricsRejected (or SpansRejected for too many values) when it cannot. */
export function readMetrics(body: Buffer, protobuf: boolean): ReadPoints {
  const points: ReadPoints = [];
  const sink = { take: (at: PointAt, point: HistogramPoint | string) => void points.push([at, point]) };
  if (protobuf) readProtoMetrics(body, sink);
  else readJsonMetrics(body, sink);
  return points;
}

/** The thread side: a refusal travels as its fields, since an error loses its class on the way. */
export function answerMetricRead({ body, protobuf }: MetricReadRequest): MetricReadAnswer {
  try {
    return { points: readMetrics(Buffer.from(body.buffer, body.byteOffset, body.byteLength), protobuf) };
  } catch (error) {
    if (!(error instanceof MetricsRejected || error instanceof SpansRejected)) throw error;
    const { message, path, status, code } = error;
    return { rejected: { message, path, status, code } };
  }
}

/** Smaller bodies (a few dozen points) cost less to read here than to hand to a thread. */
const THREAD_MIN_BYTES = 16 * 1024;

/**
 * Reads metric exports: decoding and checking an export of thousands of points takes tens of milliseconds
 * (about 12 µs a point), which on the event loop every gate answer would wait behind, so bodies past
 * THREAD_MIN_BYTES are read on a worker thread; the stream state and the counting stay on the event loop.
 */
export class MetricDecoder {
  private readonly pool: WorkerPool<MetricReadRequest, MetricReadAnswer> | undefined;

  constructor(threads = THREADS_BY_DEFAULT ? 1 : 0, entry = new URL('./metricsWorker.js', import.meta.url)) {
    this.pool = threads > 0 ? new WorkerPool(entry, threads, undefined) : undefined;
  }

  /** The points of an export; throws MetricsRejected/SpansRejected as readMetrics, WorkerLost if the thread died. */
  async read(body: Buffer, protobuf: boolean): Promise<ReadPoints> {
    if (!this.pool || body.length < THREAD_MIN_BYTES) return readMetrics(body, protobuf);
    const bytes = new Uint8Array(body);
    const answer = await this.pool.run({ body: bytes, protobuf }, [bytes.buffer]);
    if ('points' in answer) return answer.points;
    const { message, path, status, code } = answer.rejected;
    throw new MetricsRejected(message, path, status, code as MetricsRejected['code']);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
