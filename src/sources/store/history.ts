import { clip } from '../../definitions/timeWindows.js';
import { windowRange } from '../../evaluate/calendar.js';
import { type CorrectionIntervals, correctionIntervals } from '../../evaluate/corrections.js';
import { burnWindows } from '../../evaluate/math.js';
import { selectedSeries } from '../../evaluate/select.js';
import { type SloPoint, type StepRange, sloTimeseries } from '../../evaluate/timeseries.js';
import type { Correction } from '../../model/correction.js';
import type { SparseCounts } from '../../model/histogram.js';
import { indicatorsOf, type SloDefinition } from '../../model/slo.js';
import type { BucketStore } from '../../store/buckets.js';
import type { TimelineStore } from '../../store/timeline.js';

export interface SloHistory {
  points: SloPoint[];
  /** Latency SLIs: the latency histogram of the range (of the first indicator); empty otherwise. */
  histogram: SparseCounts;
  /** Where corrections covered the SLO within the charted range (for shading). */
  corrections: Pick<CorrectionIntervals, 'exclude' | 'planned'>;
}

/** Reads what an SLO's charts need from the store (one read per indicator) and evaluates it per step. */
export class SloHistoryReader {
  constructor(
    private readonly buckets: BucketStore,
    private readonly timeline: TimelineStore,
  ) {}

  read(
    definition: SloDefinition,
    range: StepRange,
    nowMs: number,
    corrections: readonly Correction[] = [],
  ): SloHistory {
    // The earliest point looks back over its SLO window and the longest burn-rate window.
    const readFromMs =
      Math.min(
        windowRange(definition.windowSpec, range.fromMs).startMs,
        range.fromMs - burnWindows(definition.windowMs).at(-1)![1],
      ) - range.stepMs;
    const oldestMinuteKept = this.buckets.oldestMinuteKept(nowMs);
    const series = this.buckets.seriesReader();
    const reads = indicatorsOf(definition).map((indicator) => {
      const ids = selectedSeries(definition, series, indicator).map((row) => row.id);
      const { good } = indicator;
      const latency =
        good.kind === 'latency'
          ? { thresholdUs: good.thresholdUs, histogramFromMs: range.fromMs }
          : undefined;
      return {
        indicator,
        ...this.timeline.read(ids, readFromMs, range.toMs, oldestMinuteKept, latency, indicator.rules?.id),
      };
    });
    const corrected = correctionIntervals(
      definition,
      corrections,
      readFromMs,
      range.toMs,
      oldestMinuteKept * 60_000,
    );
    return {
      points: sloTimeseries(definition, reads, range, corrected.exclude),
      histogram: reads[0]!.histogram,
      corrections: {
        exclude: clip(corrected.exclude, range.fromMs, range.toMs),
        planned: clip(corrected.planned, range.fromMs, range.toMs),
      },
    };
  }
}
