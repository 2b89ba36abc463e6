import { describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { mergePacked, packSeries } from '../../src/ingest/zipkin/packed.js';
import type { Observation } from '../../src/model/observation.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

const request = (fields: Partial<Observation>): Observation => ({
  timeMs: T0,
  kind: 'traces',
  source: 'server',
  service: 'shop',
  operation: '/cart/:id',
  method: 'GET',
  error: false,
  durationUs: 2_500,
  ...fields,
});

/** Two services, three minutes, errors, untimed requests, two thresholds and a rule's counts. */
function parsedBatch(): BatchAggregate {
  const batch = new BatchAggregate([5_000, 250_000]);
  for (let i = 0; i < 40; i++) {
    batch.add(
      request({
        timeMs: T0 + (i % 3) * MINUTE + i,
        service: i % 2 === 0 ? 'shop' : 'search',
        error: i % 7 === 0,
        durationUs: i % 5 === 0 ? undefined : 1_000 + i * 9_000,
      }),
    );
  }
  const [bucket] = [...[...batch.series.values()][0]!.minutes.values()];
  bucket!.rules.set(-1, 4).set(-2, 1);
  return batch;
}

/** A batch as the event loop holds it before the thread's sums arrive: one minute of `shop` already counted. */
function waitingBatch(): BatchAggregate {
  const batch = new BatchAggregate([5_000, 250_000]);
  batch.add(request({ durationUs: 300_000, error: true }));
  return batch;
}

describe('span sums packed for the trip from a parsing thread', () => {
  it('merge into a batch exactly as the unpacked sums do, counts, histograms, thresholds, rules and times', () => {
    const parsed = parsedBatch();
    const packed = packSeries(parsed.series, parsed.observations);
    expect(packed.keys).toHaveLength(parsed.series.size * 5);

    const viaPacked = waitingBatch();
    mergePacked(viaPacked, packed);
    const viaMaps = waitingBatch();
    viaMaps.mergeSeries(parsedBatch().series, parsed.observations);

    expect(viaPacked.observations).toBe(41);
    expect(viaPacked.observations).toBe(viaMaps.observations);
    expect([...viaPacked.series.keys()].sort()).toEqual([...viaMaps.series.keys()].sort());
    for (const [key, series] of viaMaps.series) {
      const packedSeries = viaPacked.series.get(key)!;
      expect(packedSeries.firstSeenMs).toBe(series.firstSeenMs);
      expect(packedSeries.lastSeenMs).toBe(series.lastSeenMs);
      expect(packedSeries.minutes).toEqual(series.minutes);
    }
    // The minute the event loop already held was added to, not replaced.
    const shopOf = (batch: BatchAggregate) =>
      [...batch.series.values()].find((series) => series.key.service === 'shop')!.minutes.get(T0 / MINUTE)!;
    expect(shopOf(viaPacked).total).toBe(shopOf(parsed).total + 1);
    expect(shopOf(viaPacked).errors).toBe(shopOf(parsed).errors + 1);
  });

  it('carries every number in one buffer that can be transferred, and an empty batch as nothing', () => {
    const parsed = parsedBatch();
    const { sums } = packSeries(parsed.series, parsed.observations);
    expect(sums.buffer.byteLength).toBe(sums.byteLength);
    expect(structuredClone(sums, { transfer: [sums.buffer] }).length).toBeGreaterThan(0);
    const empty = packSeries(new Map(), 0);
    expect(empty).toEqual({ keys: [], sums: new Float64Array(0), observations: 0 });
    const batch = waitingBatch();
    mergePacked(batch, empty);
    expect(batch.observations).toBe(1);
    expect(batch.series.size).toBe(1);
  });
});
