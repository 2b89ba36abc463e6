import type { EventCounts } from '../../model/status.js';

/** Steps one range query asks for: under Prometheus' 11,000 points per series (VictoriaMetrics allows 30,000). */
export const MAX_RANGE_STEPS = 10_000;

/**
 * Slices kept across every SLO at most (16 bytes each: 160 MB): 1,000 SLOs of 28 days in 5-minute slices fit,
 * while a thousand SLOs of a year in 1-minute slices would need 8 GB. An SLO that would pass it is read whole
 * each tick instead, as without the cache.
 */
export const MAX_CACHED_SLICES = 10_000_000;

/** Which closed slices a window holds: the first one's end, how many, and the slice length. */
export interface SliceSpan {
  firstEndMs: number;
  count: number;
  sliceMs: number;
}

/** Good and valid events per slice of a slice span, in slice order. */
export interface SliceValues {
  good: Float64Array;
  valid: Float64Array;
}

/**
 * Asks the engine for the slices ending from `startMs` to `endMs` (a step of the slice apart): their events by
 * end; an end without an answer held none.
 */
export type AskSlices = (startMs: number, endMs: number) => Promise<ReadonlyMap<number, EventCounts>>;

interface Kept extends SliceValues {
  /** What the slices' events depend on (engine, queries, slice length): another key starts afresh. */
  key: string;
  /** The end of the first kept slice; the kept ones follow it without a gap, one slice apart. */
  firstEndMs: number;
  sliceMs: number;
}

/**
 * The finished time slices of slice-budgeted SLOs read from an engine, so a tick asks only the slices that
 * closed since the last one instead of the whole window's. A slice is finished once its end is at or before
 * the engine read time (the last grid point every collector has written, `data.delay` behind): its events can
 * no longer change. Bounded: per SLO, the current window's slices as two arrays (16 bytes a slice: 129 KB for
 * 28 days of 5-minute slices), at most MAX_CACHED_SLICES in all; an SLO absent from a refresh, or whose key
 * changed (a reload), is dropped.
 */
export class SliceCache {
  private readonly bySlo = new Map<string, Kept>();
  /** Slices kept across every SLO. */
  private total = 0;

  constructor(private readonly maxSlices = MAX_CACHED_SLICES) {}

  /** Keeps only these SLOs: the ones a reload removed go. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.bySlo.keys()) if (!names.has(name)) this.drop(name);
  }

  private drop(name: string): void {
    this.total -= this.kept(name);
    this.bySlo.delete(name);
  }

  /** How many slices are kept for an SLO (0 for none). */
  kept(name: string): number {
    return this.bySlo.get(name)?.valid.length ?? 0;
  }

  /** How many of the span's first slices the kept ones hold (they must start at or before it, on its grid). */
  private reusable(kept: Kept | undefined, key: string, span: SliceSpan): number {
    if (!kept || kept.key !== key || kept.sliceMs !== span.sliceMs) return 0;
    const offset = (span.firstEndMs - kept.firstEndMs) / span.sliceMs;
    if (!Number.isInteger(offset) || offset < 0) return 0;
    return Math.max(0, Math.min(span.count, kept.valid.length - offset));
  }

  /**
   * The span's slice values (read-only: they are the kept arrays): the kept ones, and the slices after them
   * asked in range queries of at most MAX_RANGE_STEPS steps. Nothing is kept from a read whose asks failed.
   */
  async read(name: string, key: string, span: SliceSpan, ask: AskSlices): Promise<SliceValues> {
    const kept = this.bySlo.get(name);
    const { firstEndMs, count, sliceMs } = span;
    const have = this.reusable(kept, key, span);
    const values: SliceValues = { good: new Float64Array(count), valid: new Float64Array(count) };
    if (have > 0) {
      const offset = (firstEndMs - kept!.firstEndMs) / sliceMs;
      values.good.set(kept!.good.subarray(offset, offset + have));
      values.valid.set(kept!.valid.subarray(offset, offset + have));
    }
    const chunks: Array<{ first: number; steps: number }> = [];
    for (let first = have; first < count; first += MAX_RANGE_STEPS)
      chunks.push({ first, steps: Math.min(MAX_RANGE_STEPS, count - first) });
    const answers = await Promise.all(
      chunks.map(({ first, steps }) =>
        ask(firstEndMs + first * sliceMs, firstEndMs + (first + steps - 1) * sliceMs),
      ),
    );
    chunks.forEach(({ first, steps }, i) => {
      for (let at = first; at < first + steps; at++) {
        const events = answers[i]!.get(firstEndMs + at * sliceMs);
        values.good[at] = events?.good ?? 0;
        values.valid[at] = events?.valid ?? 0;
      }
    });
    this.drop(name);
    if (this.total + count <= this.maxSlices) {
      this.bySlo.set(name, { key, firstEndMs, sliceMs, ...values });
      this.total += count;
    }
    return values;
  }
}
