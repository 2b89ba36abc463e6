import { describe, expect, it } from 'vitest';
import type { CardinalityLimits } from '../../src/config/cardinality.js';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { type DeclaredLabels, type OverflowWarning, SeriesLimiter } from '../../src/ingest/cardinality.js';
import {
  LabelRejected,
  labelProblem,
  labelValue,
  MAX_LABEL_BYTES,
  methodLabel,
  OTHER_METHOD,
  OVERFLOW_LABEL,
} from '../../src/ingest/labels.js';
import type { SeriesKey } from '../../src/model/series.js';

const NOW = Date.UTC(2026, 10, 23, 10);
const LIMITS: CardinalityLimits = { maxSeries: 20, maxSeriesPerService: 5, maxServices: 3 };
const DECLARED: DeclaredLabels = {
  service: (service) => service === 'checkout',
  source: (kind, source) => kind === 'traces' || source === 'edge',
  operation: (service, operation) => service === 'checkout' && operation === '/pay',
};

const lb = (service: string, operation: string, source = 'edge', method = 'GET'): SeriesKey => ({
  kind: 'loadbalancer',
  source,
  service,
  operation,
  method,
});

/** A batch of one request per key, all in one minute. */
function batchOf(keys: SeriesKey[]): BatchAggregate {
  const batch = new BatchAggregate();
  for (const key of keys) batch.add({ ...key, timeMs: NOW, error: false });
  return batch;
}

/** Series and their request counts once `fold` has run, as the store would receive them. */
function folded(limiter: SeriesLimiter, keys: SeriesKey[]): Map<string, number> {
  const out = limiter.fold(batchOf(keys));
  limiter.committed();
  const counts = new Map<string, number>();
  for (const series of out.series.values()) {
    const { source, service, operation, method } = series.key;
    let total = 0;
    for (const delta of series.minutes.values()) total += delta.total;
    counts.set(`${source} ${service} ${operation} ${method}`, total);
  }
  return counts;
}

describe('label values', () => {
  it('refuses NUL, control characters and broken UTF-8 with the reason', () => {
    expect(labelProblem('/profile/:id')).toBeUndefined();
    expect(labelProblem('ünïcödé 名前 😀')).toBeUndefined();
    expect(labelProblem('a\u0000b')).toBe('contains NUL');
    expect(labelProblem('a\nb')).toBe('contains control character U+000a');
    expect(labelProblem('a\u007fb')).toBe('contains control character U+007f');
    // What the UTF-8 decoder leaves for bytes that were not UTF-8, and unpaired surrogates from JSON escapes.
    expect(labelProblem(Buffer.from([0x2f, 0xff, 0xfe]).toString('utf8'))).toBe('is not valid UTF-8');
    expect(labelProblem('x\ud800')).toBe('is not valid UTF-8');
    expect(labelProblem('\udc00x')).toBe('is not valid UTF-8');
    expect(() => labelValue('service', 'a\u0000')).toThrow(new LabelRejected('service', 'contains NUL'));
  });

  it('folds values longer than 256 UTF-8 bytes and methods outside the HTTP set', () => {
    expect(labelValue('operation', 'a'.repeat(MAX_LABEL_BYTES))).toBe('a'.repeat(MAX_LABEL_BYTES));
    expect(labelValue('operation', 'a'.repeat(MAX_LABEL_BYTES + 1))).toBe(OVERFLOW_LABEL);
    // 86 three-byte characters are 258 bytes though only 86 UTF-16 units.
    expect(labelValue('operation', '名'.repeat(86))).toBe(OVERFLOW_LABEL);
    expect(labelValue('operation', '名'.repeat(85))).toBe('名'.repeat(85));
    expect(['GET', 'PATCH', 'CONNECT', '-', '*'].map(methodLabel)).toEqual([
      'GET',
      'PATCH',
      'CONNECT',
      '-',
      '*',
    ]);
    expect(['PROPFIND', 'get', 'X'.repeat(1000)].map(methodLabel)).toEqual([
      OTHER_METHOD,
      OTHER_METHOD,
      OTHER_METHOD,
    ]);
  });

  it('makes one series of every folded key in a batch, and rejects an unsafe name', () => {
    const batch = new BatchAggregate();
    const a = batch.seriesFor('loadbalancer', 'edge', 'shop', '/a', 'PROPFIND');
    const b = batch.seriesFor('loadbalancer', 'edge', 'shop', '/a', 'BREW');
    expect(a).toBe(b);
    expect(a.key.method).toBe(OTHER_METHOD);
    expect(batch.seriesFor('loadbalancer', 'edge', 'shop', 'x'.repeat(300), 'GET').key.operation).toBe(
      OVERFLOW_LABEL,
    );
    expect(batch.series.size).toBe(2);
    expect(() => batch.seriesFor('loadbalancer', 'edge', 'shop\u0000', '/a', 'GET')).toThrow(LabelRejected);
    expect(batch.series.size).toBe(2);
  });
});

describe('series caps', () => {
  it('folds series past the per-service cap into the service overflow series, keeping every request', () => {
    const limiter = new SeriesLimiter(LIMITS, DECLARED, []);
    const keys = Array.from({ length: 12 }, (_, i) => lb('shop', `/r${i}`));
    const counts = folded(limiter, keys);
    const own = [...counts.keys()].filter((key) => !key.includes(OVERFLOW_LABEL));
    expect(own).toHaveLength(LIMITS.maxSeriesPerService);
    expect(counts.get(`edge shop ${OVERFLOW_LABEL} ${OTHER_METHOD}`)).toBe(12 - LIMITS.maxSeriesPerService);
    expect([...counts.values()].reduce((a, b) => a + b)).toBe(12);
    expect(limiter.overflowed.get('series_per_service')).toBe(12 - LIMITS.maxSeriesPerService);
    // A series already admitted stays itself in later batches.
    expect(folded(limiter, [lb('shop', '/r0')]).get('edge shop /r0 GET')).toBe(1);
  });

  it('folds new services past the cap, undeclared sources into the overflow source', () => {
    const limiter = new SeriesLimiter(LIMITS, DECLARED, []);
    const counts = folded(
      limiter,
      Array.from({ length: 6 }, (_, i) => lb(`svc${i}`, '/', `src${i}`)),
    );
    expect(counts.get(`${OVERFLOW_LABEL} ${OVERFLOW_LABEL} ${OVERFLOW_LABEL} ${OTHER_METHOD}`)).toBe(3);
    expect(limiter.overflowed.get('services')).toBe(3);
  });

  it('holds the global cap: the store never has more than maxSeries plus one overflow series per kind and declared source', () => {
    const limiter = new SeriesLimiter(LIMITS, DECLARED, []);
    for (let round = 0; round < 10; round++) {
      const keys: SeriesKey[] = [];
      for (let i = 0; i < 50; i++) {
        keys.push(lb(`svc${i % 3}`, `/r${round}-${i}`, i % 2 ? 'edge' : `src${round}-${i}`, `M${i}`));
        keys.push({ ...lb(`span-svc${i % 3}`, `op${round}-${i}`, 'server'), kind: 'traces' });
      }
      folded(limiter, keys);
    }
    expect(limiter.overflowed.get('series')).toBeGreaterThan(0);
    // Past maxSeries only the kind-wide overflow series may be made: per kind, one per source kept
    // (loadbalancer: edge and the overflow source; traces: server).
    expect(limiter.seriesCount).toBeLessThanOrEqual(LIMITS.maxSeries + 3);
  });

  it('never folds a series made only of declared labels, however full the caps are', () => {
    const limiter = new SeriesLimiter({ ...LIMITS, maxSeriesPerService: 10 }, DECLARED, []);
    folded(
      limiter,
      Array.from({ length: 40 }, (_, i) => lb('checkout', `/junk${i}`)),
    );
    const counts = folded(limiter, [lb('checkout', '/pay', 'edge', 'POST')]);
    expect(counts.get('edge checkout /pay POST')).toBe(1);
    // From a source nobody declared, a declared route keeps its route and method: only the source folds.
    const fromElsewhere = folded(limiter, [lb('checkout', '/pay', 'pusher-7', 'POST')]);
    expect(fromElsewhere.get(`${OVERFLOW_LABEL} checkout /pay POST`)).toBe(1);
  });

  it('counts the series already stored, so caps hold across restarts', () => {
    const stored = Array.from({ length: LIMITS.maxSeriesPerService }, (_, i) => lb('shop', `/old${i}`));
    const limiter = new SeriesLimiter(LIMITS, DECLARED, stored);
    expect(limiter.seriesCount).toBe(LIMITS.maxSeriesPerService);
    const counts = folded(limiter, [lb('shop', '/new'), lb('shop', '/old1')]);
    expect(counts.get('edge shop /old1 GET')).toBe(1);
    expect(counts.get(`edge shop ${OVERFLOW_LABEL} ${OTHER_METHOD}`)).toBe(1);
  });

  it('forgets the series of a batch whose transaction failed', () => {
    const limiter = new SeriesLimiter(LIMITS, DECLARED, []);
    limiter.fold(batchOf(Array.from({ length: 5 }, (_, i) => lb('shop', `/r${i}`))));
    limiter.rolledBack();
    expect(limiter.seriesCount).toBe(0);
    expect(folded(limiter, [lb('shop', '/other')]).get('edge shop /other GET')).toBe(1);
  });

  it('warns at most once a minute per cap, naming the service and how many were folded since', () => {
    let nowMs = NOW;
    const limiter = new SeriesLimiter(LIMITS, DECLARED, [], () => nowMs);
    const warnings: OverflowWarning[] = [];
    limiter.onOverflow((warning) => warnings.push(warning));
    folded(
      limiter,
      Array.from({ length: 10 }, (_, i) => lb('shop', `/r${i}`)),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ cap: 'series_per_service', folded: 1, refused: { service: 'shop' } });
    nowMs += 30_000;
    folded(limiter, [lb('shop', '/late')]);
    expect(warnings).toHaveLength(1);
    nowMs += 31_000;
    folded(limiter, [lb('shop', '/later')]);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatchObject({ folded: 6, refused: { operation: '/later' } });
  });
});
