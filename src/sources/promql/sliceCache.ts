import type { EventCounts } from '../../model/status.js';

/** Steps one range query asks for: under Prometheus' 11,000 points per series (VictoriaMetrics allows 30,000). */
export const MAX_RANGE_STEPS = 10_000;

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

interface Kept {
  /** What the slices' events depend on (engine, queries, slice length): another key starts afresh. */
  key: string;
  /** Good and valid events by slice end; only ends inside the SLO's current window are kept. */
  values: Map<number, [number, number]>;
}

/**
 * The finished time slices of slice-budgeted SLOs read from an engine, so a tick asks only the slices that
 * closed since the last one instead of the whole window's. A slice is finished once its end is at or before
 * the engine read time (the last grid point every collector has written, `data.delay` behind): its events can
 * no longer change. Bounded: per SLO, only the current window's slices (a 28-day window of 1-minute slices is
 * 40,320 pairs); an SLO absent from a refresh, or whose key changed (a reload), is dropped.
 */
export class SliceCache {
  private readonly bySlo = new Map<string, Kept>();

  /** Keeps only these SLOs: the ones a reload removed go. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.bySlo.keys()) if (!names.has(name)) this.bySlo.delete(name);
  }

  /** How many slices are kept for an SLO (0 for none). */
  kept(name: string): number {
    return this.bySlo.get(name)?.values.size ?? 0;
  }

  /**
   * The span's slice values: the kept ones, and the missing ones asked (each run of consecutive missing ends
   * in range queries of at most MAX_RANGE_STEPS steps). Nothing is kept from a tick whose asks failed.
   */
  async read(name: string, key: string, span: SliceSpan, ask: AskSlices): Promise<SliceValues> {
    let kept = this.bySlo.get(name);
    if (kept?.key !== key) {
      kept = { key, values: new Map() };
      this.bySlo.set(name, kept);
    }
    const { values } = kept;
    const { firstEndMs, count, sliceMs } = span;
    const lastEndMs = firstEndMs + (count - 1) * sliceMs;
    for (const endMs of values.keys()) if (endMs < firstEndMs || endMs > lastEndMs) values.delete(endMs);
    const chunks: Array<{ startMs: number; endMs: number }> = [];
    for (let i = 0; i < count; i++) {
      const endMs = firstEndMs + i * sliceMs;
      if (values.has(endMs)) continue;
      const last = chunks.at(-1);
      if (last && last.endMs === endMs - sliceMs && (endMs - last.startMs) / sliceMs < MAX_RANGE_STEPS)
        last.endMs = endMs;
      else chunks.push({ startMs: endMs, endMs });
    }
    const answers = await Promise.all(chunks.map(({ startMs, endMs }) => ask(startMs, endMs)));
    chunks.forEach(({ startMs, endMs }, i) => {
      for (let atMs = startMs; atMs <= endMs; atMs += sliceMs) {
        const events = answers[i]!.get(atMs);
        values.set(atMs, [events?.good ?? 0, events?.valid ?? 0]);
      }
    });
    const result: SliceValues = { good: new Float64Array(count), valid: new Float64Array(count) };
    for (let i = 0; i < count; i++) {
      const [good, valid] = values.get(firstEndMs + i * sliceMs)!;
      result.good[i] = good;
      result.valid[i] = valid;
    }
    return result;
  }
}
