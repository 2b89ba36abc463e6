import type { ScrapeSettings } from '../../config/scrape.js';
import type { BucketDelta } from '../../model/series.js';
import { readAnswer } from '../../net/boundedBody.js';
import { RepeatingJob } from '../../repeatingJob.js';
import type { ScrapeCounterStore } from '../../store/scrapeCounters.js';
import { LabelRejected } from '../labels.js';
import type { IngestPipeline } from '../pipeline.js';
import type { ServiceRoutes } from '../routeTemplates.js';
import { parseExposition } from './exposition.js';
import { boundsAround, exactAtBounds, type LbBucket, spreadOverBins } from './histogram.js';
import { ANY, type Counters, INF_BOUND, readCounters } from './kinds.js';

export interface ScrapeLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface ScraperDeps {
  pipeline: IngestPipeline;
  routes: ServiceRoutes;
  store: ScrapeCounterStore;
  log: ScrapeLog;
  now?: () => number;
}

/**
 * The largest exposition read ([ingest](../../../docs/ingest.md#scraping-load-balancer-metrics)): a load
 * balancer's page is KiBs to a few MiB; a larger one fails the scrape rather than filling memory.
 */
export const MAX_SCRAPE_BYTES = 32 * 1024 * 1024;

/** Increase of a counter between two scrapes: a value below the last one means the counter was reset. */
export function increase(previous: number | undefined, current: number): number {
  if (previous === undefined || current < previous) return current;
  return current - previous;
}

interface SeriesIncrease {
  backend: string;
  operation: string;
  method: string;
  total: number;
  errors: number;
  buckets: LbBucket[];
}

/** Groups counter increases by (backend, operation, method). */
function increases(previous: Counters, current: Counters): SeriesIncrease[] {
  const bySeries = new Map<string, SeriesIncrease>();
  for (const [key, value] of current) {
    const [kind, backend, operation, method, le] = key.split('\u0000') as [
      string,
      string,
      string,
      string,
      string?,
    ];
    const seriesKey = `${backend}\u0000${operation}\u0000${method}`;
    let series = bySeries.get(seriesKey);
    if (!series) {
      series = { backend, operation, method, total: 0, errors: 0, buckets: [] };
      bySeries.set(seriesKey, series);
    }
    const delta = increase(previous.get(key), value);
    if (kind === 'total') series.total += delta;
    else if (kind === 'errors') series.errors += delta;
    else
      series.buckets.push({
        upperUs: le === INF_BOUND ? Number.POSITIVE_INFINITY : Number(le),
        cumulative: delta,
      });
  }
  for (const series of bySeries.values()) series.buckets.sort((a, b) => a.upperUs - b.upperUs);
  return [...bySeries.values()];
}

/**
 * Scrapes one load balancer's Prometheus endpoint on an interval. The increase of each counter since the
 * last good scrape (a reset counts from zero) is added to the minute in the middle of that interval, with
 * the new counter values committed in the same transaction. An interval longer than `maxGap` (a long
 * outage of the scrape or of sloguard) is not attributed to any minute: the scrape only becomes the new
 * baseline, and a warning says how long the gap was.
 */
export class LbScraper {
  private previous: Counters | undefined;
  private previousMs: number | undefined;
  private readonly now: () => number;
  private readonly unmapped = new Set<string>();
  private readonly interpolated = new Set<number>();
  scrapes = 0;
  failures = 0;
  private readonly schedule: RepeatingJob;

  constructor(
    private readonly settings: ScrapeSettings,
    private readonly deps: ScraperDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.schedule = new RepeatingJob(
      () => this.scrapeOnce(),
      settings.intervalMs,
      (error) => {
        this.failures += 1;
        deps.log.warn({ err: error, target: settings.url }, 'scrape failed');
      },
    );
    const stored = deps.store.load(settings.url);
    this.previous = stored?.counters;
    this.previousMs = stored?.scrapedMs;
  }

  start(): void {
    this.schedule.start();
  }

  stop(): Promise<void> {
    return this.schedule.stop();
  }

  async scrapeOnce(): Promise<void> {
    const response = await fetch(this.settings.url, {
      signal: AbortSignal.timeout(Math.min(this.settings.intervalMs, 10_000)),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status} from ${this.settings.url}`);
    const exposition = await readAnswer(response, MAX_SCRAPE_BYTES);
    const counters = readCounters(this.settings.kind, parseExposition(exposition));
    const nowMs = this.now();
    const batch = this.deps.pipeline.newBatch();
    if (this.previous && this.previousMs !== undefined) {
      const gapMs = nowMs - this.previousMs;
      if (gapMs <= this.settings.maxGapMs) {
        const middleMs = this.previousMs + gapMs / 2;
        for (const series of increases(this.previous, counters)) this.addSeries(batch, series, middleMs);
      } else {
        this.deps.log.warn(
          { target: this.settings.url, gapMs, maxGapMs: this.settings.maxGapMs },
          'scrape gap longer than maxGap: the increase over it is not counted',
        );
      }
    }
    batch.alsoInTransaction(() => this.deps.store.replace(this.settings.url, counters, nowMs));
    await this.deps.pipeline.submit(batch);
    if (!this.previous) {
      this.deps.log.info(
        { target: this.settings.url },
        'first scrape of this target: counting increases from here',
      );
    }
    this.previous = counters;
    this.previousMs = nowMs;
    this.scrapes += 1;
  }

  private addSeries(
    batch: ReturnType<IngestPipeline['newBatch']>,
    series: SeriesIncrease,
    timeMs: number,
  ): void {
    const service = this.settings.services[series.backend] ?? this.settings.service;
    if (service === undefined) {
      if (!this.unmapped.has(series.backend)) {
        this.unmapped.add(series.backend);
        this.deps.log.warn(
          { target: this.settings.url, backend: series.backend },
          'no service for this backend: map it under services:',
        );
      }
      return;
    }
    if (series.total === 0) return;
    const operation = series.operation === ANY ? ANY : this.deps.routes.route(service, series.operation);
    const delta: BucketDelta = {
      total: series.total,
      errors: series.errors,
      histogram: spreadOverBins(series.buckets),
      thresholds: exactAtBounds(series.buckets, batch.thresholdsUs),
      // Scraped counters carry no user agents: buckets with them have no exact counting-rule counts.
      rules: new Map(),
    };
    this.noteInterpolated(series.buckets, batch.thresholdsUs);
    try {
      batch.addBucket(
        batch.seriesFor('loadbalancer', this.settings.source, service, operation, series.method),
        timeMs,
        delta,
      );
    } catch (error) {
      if (!(error instanceof LabelRejected)) throw error;
      this.deps.log.warn(
        { target: this.settings.url, reason: error.message },
        'scraped series skipped: its labels cannot name a series',
      );
    }
  }

  /** Says once per threshold that it lies between two LB bounds, and which, since its SLI is then an estimate. */
  private noteInterpolated(buckets: readonly LbBucket[], thresholdsUs: readonly number[]): void {
    for (const threshold of thresholdsUs) {
      if (this.interpolated.has(threshold)) continue;
      const around = boundsAround(buckets, threshold);
      if (!around) continue;
      this.interpolated.add(threshold);
      this.deps.log.info(
        {
          target: this.settings.url,
          thresholdUs: threshold,
          lowerBoundUs: around[0],
          upperBoundUs: around[1],
        },
        'latency threshold between LB histogram bounds: estimated by linear interpolation inside that LB bucket',
      );
    }
  }
}
