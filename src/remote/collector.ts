import { setImmediate } from 'node:timers/promises';
import client, { type Registry } from 'prom-client';
import type { CollectorRole } from '../config/collector.js';
import type { BucketBatch, SeriesKey } from '../model/series.js';
import { RepeatingJob } from '../repeatingJob.js';
import { WriteBuffer } from './buffer.js';
import { CollectorCounters } from './counters.js';
import { RemoteWriteSender } from './sender.js';
import { encodeWriteRequest, type TimeSeries } from './writeRequest.js';

export interface CollectorLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** Series per WriteRequest: a part encodes in a few milliseconds, and engines take it in one request. */
const WRITE_SERIES = 5_000;

/** How long a graceful stop keeps sending what is buffered before leaving it for the next start. */
const DRAIN_ON_STOP_MS = 5_000;

/**
 * The collector role (issue #21): committed batches become counters (no buckets); at every point of the flush
 * grid every live series goes to the on-disk buffer (WriteRequests of at most 5,000 series), which a sender
 * drains to the engine.
 * What an ingest route acknowledged is in the counters at once and in the buffer at the next grid point: a
 * SIGKILL loses at most one flush interval of observations, an engine outage nothing (up to the buffer bound).
 */
export class RemoteWriteCollector {
  readonly counters: CollectorCounters;
  readonly buffer: WriteBuffer;
  private readonly sender: RemoteWriteSender;
  private readonly flushes: RepeatingJob;
  private lastGridMs = Number.NEGATIVE_INFINITY;
  /** The flush under way (one of many series hands the loop back between its parts); none: undefined. */
  private flushing: Promise<void> | undefined;
  private metrics: ReturnType<typeof collectorMetrics> | undefined;

  constructor(
    readonly role: CollectorRole,
    thresholdsOf: (key: SeriesKey) => readonly number[],
    private readonly log: CollectorLog,
    private readonly clock: () => number = Date.now,
  ) {
    this.counters = new CollectorCounters(role.id, thresholdsOf);
    const metrics = () => this.metrics;
    this.buffer = new WriteBuffer(role.bufferPath, role.bufferMaxBytes, (dropped) => {
      metrics()?.dropped.inc();
      log.warn(
        { ...dropped, maxBytes: role.bufferMaxBytes },
        'remote-write buffer full: the oldest undelivered write was dropped',
      );
    });
    this.sender = new RemoteWriteSender(
      this.buffer,
      { url: role.remoteWriteUrl, timeoutMs: role.timeoutMs, ...(role.token && { token: role.token }) },
      {
        onDone: (outcome, write, detail) => {
          metrics()?.sent.inc({ outcome });
          if (outcome === 'refused')
            log.error(
              { gridMs: write.gridMs, ...detail },
              'the engine refused a remote write for good (4xx); it is dropped',
            );
        },
        onRetry: (write, detail) => {
          metrics()?.retries.inc();
          log.warn({ gridMs: write.gridMs, ...detail }, 'remote write failed; retrying');
        },
      },
    );
    const interval = role.flushIntervalMs;
    this.flushes = new RepeatingJob(
      async () => {
        while (this.flushing) await this.flushing;
        await this.startFlush(this.dueGridMs());
      },
      // Just after the next grid point, so the write is stamped with it.
      () => interval - (this.clock() % interval) + 5,
      (error) => log.error({ err: error }, 'collector flush failed'),
      false,
    );
  }

  /** Counts the buffer, drops, deliveries and retries in a `/metrics` registry. */
  meter(registry: Registry): void {
    this.metrics = collectorMetrics(registry, this);
  }

  /** The latest grid point at or before now. */
  private dueGridMs(): number {
    const interval = this.role.flushIntervalMs;
    return Math.floor(this.clock() / interval) * interval;
  }

  /** Starts a flush (its first 5,000 series are written before this returns); the promise never rejects. */
  private startFlush(gridMs: number): Promise<void> {
    const flushing = this.flushAt(gridMs)
      .catch((error: unknown) => this.log.error({ err: error }, 'collector flush failed'))
      .finally(() => {
        if (this.flushing === flushing) this.flushing = undefined;
      });
    this.flushing = flushing;
    return flushing;
  }

  /**
   * The pipeline's commit: counts are added at once, writes riding along (tail offsets) run with them. When a
   * grid point passed whose flush has not run yet (it runs 5 ms after, later on a busy loop), that flush goes
   * first: a batch is stamped with the first grid point after its arrival, never an earlier one, so it falls
   * in the engine's slice of its arrival time (docs/scaling.md).
   */
  commit(batch: BucketBatch): void {
    const due = this.dueGridMs();
    if (due > this.lastGridMs && this.lastGridMs > Number.NEGATIVE_INFINITY && !this.flushing)
      void this.startFlush(due);
    this.counters.add(batch, this.clock());
    for (const write of batch.inTransaction) write();
  }

  /**
   * Writes every live series at `gridMs` to the buffer, in WriteRequests of at most WRITE_SERIES series, handing
   * the loop back between them (36,000 counters take 30–300 ms to encode). Nothing when the grid time was written.
   */
  async flushAt(gridMs: number): Promise<void> {
    if (gridMs <= this.lastGridMs) return;
    this.lastGridMs = gridMs;
    let part: TimeSeries[] = [];
    for (const series of this.counters.samplesAt(gridMs, this.role.flushIntervalMs)) {
      part.push(series);
      if (part.length < WRITE_SERIES) continue;
      this.write(gridMs, part);
      part = [];
      await setImmediate();
    }
    if (part.length > 0) this.write(gridMs, part);
  }

  private write(gridMs: number, series: readonly TimeSeries[]): void {
    this.buffer.push(gridMs, encodeWriteRequest(series));
    this.sender.notify();
  }

  /** Sends what an earlier run left in the buffer first, then flushes on the grid. */
  start(): void {
    if (this.buffer.writes > 0)
      this.log.info(
        { writes: this.buffer.writes, bytes: this.buffer.bytes },
        'sending buffered remote writes',
      );
    this.sender.start();
    this.flushes.start();
  }

  /**
   * Flushes what arrived since the last grid point (stamped with the next one), then sends for a few seconds;
   * what is left stays in the buffer for the next start.
   */
  async stop(): Promise<void> {
    await this.flushes.stop();
    while (this.flushing) await this.flushing;
    const interval = this.role.flushIntervalMs;
    await this.flushAt(Math.max(Math.ceil(this.clock() / interval) * interval, this.lastGridMs + interval));
    await this.sender.drained(DRAIN_ON_STOP_MS);
    await this.sender.stop();
    this.buffer.close();
  }
}

function collectorMetrics(registry: Registry, collector: RemoteWriteCollector) {
  new client.Gauge({
    name: 'sloguard_remote_write_buffer_bytes',
    help: 'Bytes of remote writes in the on-disk buffer, not yet delivered',
    registers: [registry],
    collect() {
      this.set(collector.buffer.bytes);
    },
  });
  new client.Gauge({
    name: 'sloguard_remote_write_buffer_writes',
    help: 'Remote writes in the on-disk buffer, not yet delivered',
    registers: [registry],
    collect() {
      this.set(collector.buffer.writes);
    },
  });
  new client.Gauge({
    name: 'sloguard_collector_series',
    help: 'Series keys whose counters this collector keeps',
    registers: [registry],
    collect() {
      this.set(collector.counters.size);
    },
  });
  return {
    dropped: new client.Counter({
      name: 'sloguard_remote_write_dropped_writes_total',
      help: 'Remote writes dropped undelivered because the buffer was full',
      registers: [registry],
    }),
    sent: new client.Counter({
      name: 'sloguard_remote_write_writes_total',
      help: 'Remote writes done with, by outcome (delivered, or refused for good by the engine)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    retries: new client.Counter({
      name: 'sloguard_remote_write_retries_total',
      help: 'Remote-write attempts that failed and were retried (5xx, 429, timeouts, connection errors)',
      registers: [registry],
    }),
  };
}
