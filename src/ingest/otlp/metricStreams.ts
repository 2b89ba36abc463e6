import { type HistogramPoint, type PointBuckets, subtractBuckets } from './metricPoints.js';

/**
 * What the receiver remembers of each metric stream (resource + scope + metric + point attributes) to turn its
 * points into increases, and the rules it judges a point by. Cumulative points are compared with the stream's
 * last one: a lower count or a new start time is a reset (the new point counts whole); an older point is out
 * of order and refused; a point at the same time is a duplicate (a retried export) and counts nothing. A
 * stream seen for the first time counts whole only when nothing of it can have been counted before (see
 * `countsWhole`); otherwise it is a baseline, as the Collector's cumulativetodelta processor does.
 *
 * The state is in memory and bounded: at most `maxStreams` streams holding at most `maxBuckets` bucket counts
 * together, each dropped after `idleMs` without a point, the least recently updated first when the table is full.
 */

export interface StreamLimits {
  maxStreams: number;
  /** Bucket counts kept for cumulative streams, all together (8 bytes each). */
  maxBuckets: number;
  idleMs: number;
}

/** 50,000 streams of the SDK's 16 explicit buckets, or 12,500 of its 160 exponential ones: about 16 MB. */
export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxStreams: 50_000,
  maxBuckets: 2_000_000,
  idleMs: 60 * 60_000,
};

const bucketsOf = (state: StreamState | undefined) => state?.buckets?.counts.length ?? 0;

interface StreamState {
  producer: string;
  startNs: bigint;
  timeNs: bigint;
  /** The last cumulative buckets; undefined for delta streams. */
  buckets: PointBuckets | undefined;
  seenMs: number;
}

interface ProducerState {
  /** Time of the first point seen from this producer. */
  firstNs: bigint;
  /** One of its streams was forgotten: a stream of it not in the table may have been counted. */
  lossy: boolean;
  seenMs: number;
}

/** What a point adds: an increase over (fromNs, timeNs], nothing, or a refusal with the reason. */
export type PointVerdict =
  | { take: 'increase'; buckets: PointBuckets; fromNs: bigint }
  | { take: 'nothing'; why: 'duplicate' | 'baseline' | 'incomparable' }
  | { take: 'refuse'; why: string };

/** A judged point and the stream state it leaves when taken. */
export interface Judged {
  verdict: PointVerdict;
  next: StreamState | undefined;
}

export class MetricStreams {
  private readonly streams = new Map<string, StreamState>();
  private readonly producers = new Map<string, ProducerState>();
  private bucketsHeld = 0;
  /** Streams that started before this may have been counted and forgotten (evicted). */
  private forgottenBeforeNs: bigint;

  constructor(
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
    /** When this receiver started: nothing that started later was counted by an earlier process. */
    startedNs: bigint = BigInt(Date.now()) * 1_000_000n,
  ) {
    this.forgottenBeforeNs = startedNs;
  }

  get size(): number {
    return this.streams.size;
  }

  /**
   * A stream seen for the first time counts from its start when it started after anything forgotten (this
   * receiver's start, evicted streams), or when its producer was seen at an earlier time with no stream
   * forgotten since: a cumulative exporter sends every stream at every export, so this one is new since then.
   */
  private countsWhole(point: HistogramPoint): boolean {
    if (point.startNs === 0n) return false;
    if (point.startNs >= this.forgottenBeforeNs) return true;
    const producer = this.producers.get(point.producer);
    return producer !== undefined && !producer.lossy && producer.firstNs < point.timeNs;
  }

  /** The point judged against its stream; nothing changes until `take`. */
  judge(point: HistogramPoint, nowMs: number): Judged {
    const { startNs, timeNs } = point;
    if (timeNs === 0n) return refuse('timeUnixNano is missing');
    if (startNs > timeNs) return refuse('startTimeUnixNano is after timeUnixNano');
    const last = this.streams.get(point.stream);
    const next: StreamState = {
      producer: point.producer,
      startNs,
      timeNs,
      buckets: point.delta ? undefined : point.buckets,
      seenMs: nowMs,
    };
    if (last !== undefined && timeNs < last.timeNs)
      return refuse('timeUnixNano is older than the last point of its stream (out of order)');
    if (last !== undefined && timeNs === last.timeNs)
      return { verdict: { take: 'nothing', why: 'duplicate' }, next: undefined };
    if (point.delta) {
      if (last !== undefined && startNs < last.timeNs)
        return refuse('startTimeUnixNano is before the last point of its stream (overlapping deltas)');
      return { verdict: { take: 'increase', buckets: point.buckets, fromNs: startNs }, next };
    }
    if (last === undefined || last.buckets === undefined) {
      return this.countsWhole(point)
        ? { verdict: { take: 'increase', buckets: point.buckets, fromNs: startNs }, next }
        : { verdict: { take: 'nothing', why: 'baseline' }, next };
    }
    if (startNs < last.startNs) return refuse('startTimeUnixNano is older than its stream’s (out of order)');
    const reset = { verdict: { take: 'increase', buckets: point.buckets, fromNs: startNs }, next } as const;
    if (startNs > last.startNs) return reset;
    const increase = subtractBuckets(last.buckets, point.buckets);
    if (increase === 'lower') return reset;
    if (increase === undefined) return { verdict: { take: 'nothing', why: 'incomparable' }, next };
    return { verdict: { take: 'increase', buckets: increase, fromNs: last.timeNs }, next };
  }

  /** Keeps a judged point's state; the answer undoes it (when nothing newer replaced it) if its batch fails. */
  take(point: HistogramPoint, next: StreamState): () => void {
    const previous = this.streams.get(point.stream);
    this.streams.delete(point.stream);
    this.streams.set(point.stream, next);
    this.bucketsHeld += bucketsOf(next) - bucketsOf(previous);
    const producer = this.producers.get(point.producer);
    this.producers.delete(point.producer);
    this.producers.set(point.producer, {
      firstNs: producer?.firstNs ?? point.timeNs,
      lossy: producer?.lossy ?? false,
      seenMs: next.seenMs,
    });
    return () => {
      if (this.streams.get(point.stream) !== next) return;
      this.bucketsHeld += bucketsOf(previous) - bucketsOf(next);
      if (previous) this.streams.set(point.stream, previous);
      else this.streams.delete(point.stream);
    };
  }

  /** Forgets idle streams and producers, and the least recently updated past the cap. */
  evict(nowMs: number): void {
    const idleBefore = nowMs - this.limits.idleMs;
    for (const [key, stream] of this.streams) {
      const full = this.streams.size > this.limits.maxStreams || this.bucketsHeld > this.limits.maxBuckets;
      if (stream.seenMs >= idleBefore && !full) break;
      this.streams.delete(key);
      this.bucketsHeld -= bucketsOf(stream);
      if (stream.timeNs > this.forgottenBeforeNs) this.forgottenBeforeNs = stream.timeNs;
      const producer = this.producers.get(stream.producer);
      if (producer) producer.lossy = true;
    }
    for (const [key, producer] of this.producers) {
      if (producer.seenMs >= idleBefore && this.producers.size <= this.limits.maxStreams) break;
      this.producers.delete(key);
    }
  }
}

const refuse = (why: string): Judged => ({ verdict: { take: 'refuse', why }, next: undefined });
