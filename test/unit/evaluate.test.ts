import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/definitions/load.js';
import { describeWindow, nominalWindowMs } from '../../src/definitions/window.js';
import { compositeCounts, summariseSlices } from '../../src/evaluate/budgeting.js';
import { NO_SERIES_WARNING } from '../../src/evaluate/inputs.js';
import { burnWindows } from '../../src/evaluate/math.js';
import { evaluateSlo } from '../../src/evaluate/status.js';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import type { Correction } from '../../src/model/correction.js';
import type { Observation } from '../../src/model/observation.js';
import type { Indicator, SloDefinition, WindowSpec } from '../../src/model/slo.js';
import { storeInput } from '../../src/sources/store/counts.js';
import { BucketStore } from '../../src/store/buckets.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { seededRandom as random } from '../helpers/random.js';
import { tempFolders } from '../helpers/tmp.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function definition(
  name: string,
  indicator: Indicator,
  objective: number,
  windowSpec: WindowSpec,
  extra: Partial<SloDefinition> = {},
): SloDefinition {
  return {
    name,
    service: 'store',
    labels: {},
    indicator,
    objective,
    objectivePercent: objective * 100,
    windowMs: nominalWindowMs(windowSpec),
    window: describeWindow(windowSpec),
    windowSpec,
    budgeting: 'occurrences',
    format: 'native',
    location: { file: 'test', line: 1, column: 1 },
    ...extra,
  };
}

const availability = (route: string): Indicator => ({
  source: 'loadbalancer',
  select: { route },
  good: { kind: 'availability' },
});
const latency = (route: string, thresholdUs: number): Indicator => ({
  source: 'loadbalancer',
  select: { route },
  good: { kind: 'latency', thresholdUs, text: `<= ${thresholdUs}us` },
});

const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});
function store(minuteRetentionDays = 40): BucketStore {
  const db = openDatabase(':memory:');
  dbs.push(db);
  return new BucketStore(db, minuteRetentionDays);
}

function commit(buckets: BucketStore, events: Observation[], thresholds: number[] = []): void {
  for (let i = 0; i < events.length; i += 5000) {
    const batch = new BatchAggregate(thresholds);
    for (const event of events.slice(i, i + 5000)) batch.add(event);
    buckets.commit(batch);
  }
}

const event = (timeMs: number, route: string, status: number, durationUs?: number): Observation => ({
  timeMs,
  kind: 'loadbalancer',
  source: 'edge',
  service: 'store',
  operation: route,
  method: 'GET',
  status,
  error: status >= 500,
  ...(durationUs !== undefined && { durationUs }),
});

/** A random stream over the 10 days before `nowMs`: bursts, quiet hours, and failure spells. */
function stream(seed: number, nowMs: number, routes: string[]): Observation[] {
  const next = random(seed);
  const events: Observation[] = [];
  const failing = next() * 0.2;
  for (let i = 0; i < 4000; i++) {
    const ago = Math.floor(next() * 10 * DAY);
    const route = routes[Math.floor(next() * routes.length)]!;
    const status =
      next() < failing ? 500 + Math.floor(next() * 4) : [200, 204, 301, 404][Math.floor(next() * 4)]!;
    events.push(event(nowMs - 1 - ago, route, status, Math.floor(1000 + next() * 900_000)));
  }
  return events;
}

const inWindow = (e: Observation, fromMs: number, toMs: number) => e.timeMs >= fromMs && e.timeMs < toMs;

describe('occurrences: SLI and budget equal brute force over the raw events', () => {
  // Not on an hour: the windows have ragged minute edges on both sides.
  const NOW = Date.UTC(2026, 10, 23, 10, 37);

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('random stream %i', (seed) => {
    const buckets = store();
    const events = stream(seed, NOW, ['/a', '/b']);
    commit(buckets, events, [250_000]);
    const objective = 0.9 + random(seed * 7)() * 0.0999;
    for (const indicator of [availability('/a'), latency('/b', 250_000)]) {
      const slo = definition('s', indicator, objective, { kind: 'rolling', ms: 7 * DAY });
      const status = evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), NOW), NOW);
      const mine = events.filter((e) => e.operation === indicator.select.route);
      const goodOf = (e: Observation) =>
        indicator.good.kind === 'latency' ? e.durationUs! <= indicator.good.thresholdUs : !e.error;
      const brute = (fromMs: number) => {
        const valid = mine.filter((e) => inWindow(e, fromMs, NOW));
        return { valid: valid.length, good: valid.filter(goodOf).length };
      };
      const window = brute(NOW - 7 * DAY);
      expect([status.good, status.valid]).toEqual([window.good, window.valid]);
      expect(status.sli).toBe(window.good / window.valid);
      const allowed = Math.round((1 - objective) * 1e12) / 1e12;
      expect(status.budget.allowed).toBeCloseTo(allowed * window.valid, 9);
      expect(status.budget.consumed).toBe(window.valid - window.good);
      expect(status.sliErrorBound).toBe(0);
      for (const [name, ms] of burnWindows(7 * DAY)) {
        const counts = brute(NOW - ms);
        const expected = counts.valid > 0 ? (counts.valid - counts.good) / counts.valid / allowed : null;
        if (expected === null) expect(status.burnRates[name]).toBeNull();
        else expect(status.burnRates[name]).toBeCloseTo(expected, 9);
      }
    }
  });

  it('reads an undeclared latency threshold from the histogram, the truth within the reported bound', () => {
    const buckets = store();
    const events = stream(42, NOW, ['/b']);
    commit(buckets, events);
    const slo = definition('s', latency('/b', 300_000), 0.99, { kind: 'rolling', ms: 7 * DAY });
    const status = evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), NOW), NOW);
    const valid = events.filter((e) => inWindow(e, NOW - 7 * DAY, NOW));
    const truth = valid.filter((e) => e.durationUs! <= 300_000).length / valid.length;
    expect(status.sliErrorBound).toBeGreaterThan(0);
    expect(Math.abs(status.sli! - truth)).toBeLessThanOrEqual(status.sliErrorBound);
  });

  it('evaluates a new SLO over the history already stored, and changing its objective stays finite', () => {
    const buckets = store();
    commit(buckets, stream(9, NOW, ['/a']));
    for (const objective of [0.5, 0.99, 0.99999, 0.999999999]) {
      const slo = definition('s', availability('/a'), objective, { kind: 'rolling', ms: 28 * DAY });
      const status = evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), NOW), NOW);
      expect(status.valid).toBe(4000);
      for (const value of [
        status.budget.remaining,
        status.budget.consumedRatio,
        ...Object.values(status.burnRates),
      ])
        expect(Number.isFinite(value)).toBe(true);
    }
  });

  it('a correction of another SLO leaves the counts as none would; one of this SLO takes its events out', () => {
    const buckets = store();
    const events = stream(5, NOW, ['/a']);
    commit(buckets, events);
    const slo = definition('s', availability('/a'), 0.99, { kind: 'rolling', ms: 7 * DAY });
    const correction = (slos: string[]): Correction => ({
      id: `outage-${slos[0]}`,
      origin: 'api',
      mode: 'exclude',
      window: { kind: 'once', startMs: NOW - 2 * DAY, endMs: NOW - DAY },
      appliesTo: { slos },
      reason: 'test',
      actor: null,
      createdAtMs: null,
    });
    const evaluate = (corrections: Correction[]) =>
      evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), NOW, corrections), NOW);
    const none = evaluate([]);
    expect(evaluate([correction(['other'])])).toEqual(none);
    expect(none.corrections).toBeNull();
    const corrected = evaluate([correction(['s'])]);
    const kept = events.filter(
      (e) => inWindow(e, NOW - 7 * DAY, NOW) && !inWindow(e, NOW - 2 * DAY, NOW - DAY),
    );
    expect([corrected.good, corrected.valid]).toEqual([kept.filter((e) => !e.error).length, kept.length]);
    expect(corrected.corrections?.applied).toEqual(['outage-s']);
    // The 1d burn window ends after the exclusion: the same counts with or without it.
    expect(corrected.burnRates['1d']).toBe(none.burnRates['1d']);
  });

  it('warns when an SLO selects no series seen so far, and reports no data', () => {
    const buckets = store();
    commit(buckets, stream(3, NOW, ['/a']));
    const slo = definition('s', availability('/nowhere'), 0.99, { kind: 'rolling', ms: 28 * DAY });
    const status = evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), NOW), NOW);
    expect(status.warnings).toEqual([NO_SERIES_WARNING]);
    expect(status.state).toBe('no-data');
    expect(status.lastObservationMs).toBeNull();
  });
});

describe('calendar windows on stored data', () => {
  it('counts the current month in its zone and budgets the real month length', () => {
    const zone = 'Europe/Berlin';
    const now = DateTime.fromISO('2024-11-02T10:00', { zone }).toMillis();
    const monthStart = DateTime.fromISO('2024-11-01T00:00', { zone }).toMillis();
    const buckets = store();
    // One failure just before the month began (October, local), one request inside it.
    commit(buckets, [event(monthStart - 30_000, '/a', 503), event(monthStart + 1000, '/a', 200)]);
    const slo = definition('s', availability('/a'), 0.99999, {
      kind: 'calendar',
      unit: 'month',
      count: 1,
      timeZone: zone,
    });
    const status = evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), now), now);
    expect([status.good, status.valid]).toEqual([1, 1]);
    expect(status.windowStartMs).toBe(monthStart);
    expect(status.windowEndMs).toBe(DateTime.fromISO('2024-12-01T00:00', { zone }).toMillis());
    // The seed's table: 99.999% over a (30-day) month allows about 26 seconds.
    expect(status.budget.allowedDowntimeSeconds).toBeCloseTo(25.92, 6);
  });

  it('99.95% over 28 days allows 20.16 minutes', () => {
    const slo = definition('s', availability('/a'), 0.9995, { kind: 'rolling', ms: 28 * DAY });
    const none = { good: 0, valid: 0, errorBound: 0 };
    const status = evaluateSlo(
      slo,
      { window: none, burnWindows: {}, lastObservationMs: null, windowStartMs: 0 },
      28 * DAY,
    );
    expect(status.budget.allowedDowntimeSeconds / 60).toBeCloseTo(20.16, 9);
  });
});

describe('time slices', () => {
  it('judges each closed slice by its SLI, by hand', () => {
    // Four 2-minute slices: good 10/10, 9/10 (90%), no data, 19/20 (95%).
    const good = Float64Array.from([10, 9, 0, 19]);
    const valid = Float64Array.from([10, 10, 0, 20]);
    const slices = summariseSlices({ good, valid }, 2, 0.95, 20);
    expect(slices).toEqual({
      sliceSeconds: 120,
      total: 10,
      valid: 3,
      good: 2,
      bad: 1,
      ratioSum: 1 + 0.9 + 0.95,
    });
  });

  it('timeslices budget is a share of all slices in the window; ratio-timeslices averages slice SLIs', () => {
    const NOW = Date.UTC(2026, 10, 23, 12, 0);
    const buckets = store();
    const events: Observation[] = [];
    // The last 60 minutes: every 5th minute has 1 failure in 10 requests, the rest are clean.
    for (let m = 1; m <= 60; m++) {
      for (let i = 0; i < 10; i++)
        events.push(event(NOW - m * MINUTE + i * 1000, '/a', m % 5 === 0 && i === 0 ? 500 : 200));
    }
    commit(buckets, events);
    const window: WindowSpec = { kind: 'rolling', ms: 1 * DAY };
    const slo = definition('t', availability('/a'), 0.99, window, {
      budgeting: 'timeslices',
      timeslices: { sliceMs: MINUTE, target: 0.95 },
    });
    const status = evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), NOW), NOW);
    expect(status.slices).toMatchObject({ total: 1440, valid: 60, good: 48, bad: 12 });
    expect(status.sli).toBe(48 / 60);
    expect(status.budget.allowed).toBeCloseTo(14.4, 9);
    expect(status.budget.consumed).toBe(12);
    expect(status.budget.remaining).toBeCloseTo(2.4, 9);
    const ratio = definition('r', availability('/a'), 0.99, window, {
      budgeting: 'ratio-timeslices',
      timeslices: { sliceMs: 5 * MINUTE },
    });
    const averaged = evaluateSlo(ratio, storeInput(buckets, ratio, buckets.listSeries(), NOW), NOW);
    // Each 5-minute slice has 49 good of 50.
    expect(averaged.slices).toMatchObject({ valid: 12, total: 288 });
    expect(averaged.sli).toBeCloseTo(0.98, 12);
    expect(averaged.budget.consumed).toBeCloseTo(12 * 0.02, 9);
  });
});

describe('time slices on random streams equal brute force', () => {
  it.each([1, 2, 3])('random stream %i, 5-minute slices at 90% over a day', (seed) => {
    const NOW = Date.UTC(2026, 10, 23, 12, 0);
    const buckets = store();
    const next = random(seed);
    const events: Observation[] = [];
    for (let i = 0; i < 3000; i++) {
      const at = NOW - 1 - Math.floor(next() * 2 * DAY);
      events.push(event(at, '/a', next() < 0.08 ? 502 : 200));
    }
    commit(buckets, events);
    const window: WindowSpec = { kind: 'rolling', ms: DAY };
    for (const budgeting of ['timeslices', 'ratio-timeslices'] as const) {
      const slo = definition('t', availability('/a'), 0.95, window, {
        budgeting,
        timeslices: { sliceMs: 5 * MINUTE, ...(budgeting === 'timeslices' && { target: 0.9 }) },
      });
      const status = evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), NOW), NOW);
      let valid = 0;
      let good = 0;
      let ratioSum = 0;
      for (let start = NOW - DAY; start < NOW; start += 5 * MINUTE) {
        const inside = events.filter((e) => inWindow(e, start, start + 5 * MINUTE));
        if (inside.length === 0) continue;
        const ratio = inside.filter((e) => !e.error).length / inside.length;
        valid += 1;
        ratioSum += ratio;
        if (ratio >= 0.9) good += 1;
      }
      expect(status.slices).toMatchObject({ total: 288, valid });
      if (budgeting === 'timeslices') {
        expect(status.slices!.good).toBe(good);
        expect(status.sli).toBe(good / valid);
        expect(status.budget.consumed).toBe(valid - good);
      } else expect(status.sli).toBeCloseTo(ratioSum / valid, 12);
    }
  });
});

describe('time slices past minute retention', () => {
  // Minute rows are kept one day; the window is three days of 5-minute slices at 90%.
  const NOW = Date.UTC(2026, 10, 23, 12, 0);
  const START = NOW - 4 * DAY;
  const SLICE = 5 * MINUTE;
  const window: WindowSpec = { kind: 'rolling', ms: 3 * DAY };
  const slicesOf = (route: string, budgeting: 'timeslices' | 'ratio-timeslices', target = 0.9) =>
    definition('checkout-slices', availability(route), 0.95, window, {
      budgeting,
      timeslices: { sliceMs: SLICE, ...(budgeting === 'timeslices' && { target }) },
    });

  /** Four days of traffic on /a and /b with failing spells; a tenth of the requests arrive up to 40 minutes late. */
  function traffic(): Array<Observation & { committedMs: number }> {
    const next = random(2026);
    const events: Array<Observation & { committedMs: number }> = [];
    for (let i = 0; i < 8000; i++) {
      const at = START + Math.floor(next() * 4 * DAY);
      const failing = Math.floor(at / (3 * HOUR)) % 4 === 0 ? 0.3 : 0.03;
      const late = next() < 0.1 ? Math.floor(next() * 40 * MINUTE) : 0;
      const route = next() < 0.5 ? '/a' : '/b';
      events.push({ ...event(at, route, next() < failing ? 503 : 200), committedMs: at + late });
    }
    // /c is new: requests only in the last twelve hours.
    for (let i = 0; i < 600; i++) {
      const at = NOW - 1 - Math.floor(next() * 12 * HOUR);
      events.push({ ...event(at, '/c', next() < 0.1 ? 503 : 200), committedMs: at });
    }
    return events;
  }

  /** The window's slices judged from the raw events: over all closed slices, or from `fromMs` on. */
  function bruteForce(events: Observation[], route: string, sliceMs: number, target: number, fromMs = 0) {
    const result = { valid: 0, good: 0, ratioSum: 0 };
    const first = Math.ceil((NOW - 3 * DAY) / sliceMs) * sliceMs;
    const mine = events.filter((e) => e.operation === route);
    for (let start = first; start + sliceMs <= NOW; start += sliceMs) {
      if (start < fromMs) continue;
      const inside = mine.filter((e) => inWindow(e, start, start + sliceMs));
      if (inside.length === 0) continue;
      const ratio = inside.filter((e) => !e.error).length / inside.length;
      result.valid += 1;
      result.ratioSum += ratio;
      if (ratio >= target) result.good += 1;
    }
    return result;
  }

  it('judges every slice of the window after retention dropped the minutes, across a restart; a changed selection starts over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sloguard-slices-'));
    try {
      const path = join(dir, 'sloguard.db');
      const db = openDatabase(path);
      const buckets = new BucketStore(db, 1);
      const events = traffic();
      const slo = slicesOf('/a', 'timeslices');
      const evaluate = (store: BucketStore, definition: SloDefinition) =>
        evaluateSlo(definition, storeInput(store, definition, store.listSeries(), NOW), NOW);
      // The service: a commit of what arrived each hour, an evaluation tick, the hourly retention.
      for (let tick = START + HOUR; tick <= NOW; tick += HOUR) {
        commit(
          buckets,
          events.filter((e) => e.committedMs >= tick - HOUR && e.committedMs < tick),
        );
        storeInput(buckets, slo, buckets.listSeries(), tick);
        buckets.applyRetention(tick, 400);
      }
      const committed = events.filter((e) => e.committedMs < NOW);
      const oldestMinute = db.prepare<[], number>('SELECT min(minute) FROM minute_buckets').pluck().get()!;
      expect(oldestMinute * MINUTE).toBeGreaterThanOrEqual(NOW - DAY - HOUR);

      const expected = bruteForce(committed, '/a', SLICE, 0.9);
      const status = evaluate(buckets, slo);
      expect(status.slices).toMatchObject({ total: 864, valid: expected.valid, good: expected.good });
      expect(expected.valid).toBeGreaterThan(800);
      expect(expected.valid - expected.good).toBeGreaterThan(50);
      expect(status.sli).toBe(expected.good / expected.valid);
      expect(status.budget.consumed).toBe(expected.valid - expected.good);
      expect(status.warnings).toEqual([]);
      // Slices keep events, not verdicts: another target and ratio-timeslices judge them again.
      const looser = bruteForce(committed, '/a', SLICE, 0.8);
      expect(evaluate(buckets, slicesOf('/a', 'timeslices', 0.8)).slices!.good).toBe(looser.good);
      const averaged = evaluate(buckets, slicesOf('/a', 'ratio-timeslices'));
      expect(averaged.sli).toBeCloseTo(expected.ratioSum / expected.valid, 12);
      db.close();

      const reopened = openDatabase(path);
      dbs.push(reopened);
      const again = new BucketStore(reopened, 1);
      expect(evaluate(again, slo).slices).toEqual(status.slices);
      // Another selection under the same name: its slices older than the minute rows cannot be judged.
      const moved = evaluate(again, slicesOf('/b', 'timeslices'));
      const judgedFromMs = Math.ceil(again.oldestMinuteKept(NOW) / 5) * SLICE;
      const recent = bruteForce(committed, '/b', SLICE, 0.9, judgedFromMs);
      expect(moved.slices).toMatchObject({ total: 864, valid: recent.valid, good: recent.good });
      expect(recent.valid).toBeGreaterThan(250);
      expect(recent.valid).toBeLessThan(300);
      expect(moved.warnings).toEqual([
        `time slices are judged from ${new Date(judgedFromMs).toISOString()}: the minute rows of 576 earlier slices were gone before the slices were kept`,
      ]);
      // Back to the first selection: its kept slices are still there.
      expect(evaluate(again, slo).slices).toEqual(status.slices);
      // A new SLO of hour slices: its history comes from hour rollups.
      const hourly = definition('hourly', availability('/a'), 0.95, window, {
        budgeting: 'timeslices',
        timeslices: { sliceMs: HOUR, target: 0.9 },
      });
      const fromHours = evaluate(again, hourly);
      const byHour = bruteForce(committed, '/a', HOUR, 0.9);
      expect(fromHours.slices).toMatchObject({ total: 72, valid: byHour.valid, good: byHour.good });
      expect(byHour.valid - byHour.good).toBeGreaterThan(5);
      expect(fromHours.warnings).toEqual([]);
      // A new SLO of 5-minute slices: hours without a request tell that its older slices were empty.
      const fresh = definition('fresh', availability('/c'), 0.95, window, {
        budgeting: 'timeslices',
        timeslices: { sliceMs: SLICE, target: 0.9 },
      });
      const cut = bruteForce(committed, '/c', SLICE, 0.9);
      const freshStatus = evaluate(again, fresh);
      expect(freshStatus.slices).toMatchObject({ total: 864, valid: cut.valid, good: cut.good });
      expect(cut.valid).toBe(140);
      expect(freshStatus.warnings).toEqual([]);
      // Slices cut from minutes are kept (from the first tick's oldest minute on), and follow the hour retention.
      const kept = reopened.prepare<[], number>('SELECT count(*) FROM slices').pluck().get()!;
      const firstTickSlices = (NOW - (START + HOUR - DAY)) / SLICE;
      expect(kept).toBe(firstTickSlices + 288 + 24 + 288);
      expect(again.applyRetention(NOW + 401 * DAY, 400).slices).toBe(kept);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts again, between retention runs, the slices a late write or another connection lands in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sloguard-slices-'));
    try {
      const path = join(dir, 'sloguard.db');
      const db = openDatabase(path);
      dbs.push(db);
      const buckets = new BucketStore(db, 1);
      const slo = slicesOf('/a', 'timeslices');
      // The last six hours of traffic, committed as it arrives and evaluated every ten minutes, with no
      // retention run in between: late requests land in slices already cut and kept.
      const events = traffic().filter((e) => e.timeMs >= NOW - 6 * HOUR && e.committedMs < NOW);
      const late = events.filter((e) => e.committedMs - e.timeMs >= 10 * MINUTE);
      expect(late.length).toBeGreaterThan(20);
      for (let tick = NOW - 6 * HOUR + 10 * MINUTE; tick <= NOW; tick += 10 * MINUTE) {
        commit(
          buckets,
          events.filter((e) => e.committedMs >= tick - 10 * MINUTE && e.committedMs < tick),
        );
        storeInput(buckets, slo, buckets.listSeries(), tick);
      }
      const evaluated = () =>
        evaluateSlo(
          slo,
          buckets.readPass(() => storeInput(buckets, slo, buckets.listSeries(), NOW)),
          NOW,
        );
      const expected = bruteForce(events, '/a', SLICE, 0.9);
      expect(evaluated().slices).toMatchObject({ valid: expected.valid, good: expected.good });
      // Failures written through another connection into slices already cut.
      const other = openDatabase(path);
      dbs.push(other);
      const failures = Array.from({ length: 40 }, (_, i) => event(NOW - 3 * HOUR + i * MINUTE, '/a', 503));
      commit(new BucketStore(other, 1), failures);
      const after = bruteForce([...events, ...failures], '/a', SLICE, 0.9);
      expect(after.good).toBeLessThan(expected.good);
      expect(evaluated().slices).toMatchObject({ valid: after.valid, good: after.good });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('composites', () => {
  it('native composite: the SLI is the weighted mean of the component SLIs', () => {
    const components = [
      { name: 'home', indicator: availability('/'), weight: 1 / 3, objective: 0.999 },
      { name: 'search', indicator: availability('/search'), weight: 2 / 3, objective: 0.999 },
    ];
    const counts = compositeCounts(
      components,
      [
        { good: 990, valid: 1000, errorBound: 0 },
        { good: 95, valid: 100, errorBound: 0 },
      ],
      0.999,
    );
    expect(counts.good / counts.valid).toBeCloseTo((0.99 + 2 * 0.95) / 3, 12);
  });

  it('OpenSLO composite: weights multiply each component burn rate; no-data components drop out', () => {
    const components = [
      { name: 'a', indicator: availability('/a'), weight: 2, objective: 0.99 },
      { name: 'b', indicator: availability('/b'), weight: 1, objective: 0.9 },
      { name: 'c', indicator: availability('/c'), weight: 1, objective: 0.9 },
    ];
    const objective = (2 * 0.99 + 0.9 + 0.9) / 4;
    const counts = compositeCounts(
      components,
      [
        { good: 99, valid: 100, errorBound: 0 },
        { good: 95, valid: 100, errorBound: 0 },
        { good: 0, valid: 0, errorBound: 0 },
      ],
      objective,
    );
    // Burn a = 1, burn b = 0.5; weighted 2·1 + 1·0.5 = 2.5, scaled by 4/3 for the missing component.
    const burn = (counts.valid - counts.good) / counts.valid / (1 - objective);
    expect(burn).toBeCloseTo((2.5 * 4) / 3, 9);
  });

  it('evaluates a composite from the store, with burn rates from the same combination', () => {
    const NOW = Date.UTC(2026, 10, 23, 12, 0);
    const buckets = store();
    const events: Observation[] = [];
    for (let i = 0; i < 100; i++) {
      events.push(event(NOW - 10 * MINUTE + i, '/', i < 1 ? 500 : 200));
      events.push(event(NOW - 10 * MINUTE + i, '/search', i < 10 ? 500 : 200));
    }
    commit(buckets, events);
    const slo = definition(
      'browse',
      availability('/'),
      0.99,
      { kind: 'rolling', ms: 28 * DAY },
      {
        composite: {
          components: [
            { name: 'home', indicator: availability('/'), weight: 0.5, objective: 0.99 },
            { name: 'search', indicator: availability('/search'), weight: 0.5, objective: 0.99 },
          ],
        },
      },
    );
    const status = evaluateSlo(slo, storeInput(buckets, slo, buckets.listSeries(), NOW), NOW);
    expect(status.sli).toBeCloseTo((0.99 + 0.9) / 2, 12);
    expect(status.burnRates['1h']).toBeCloseTo((1 - (0.99 + 0.9) / 2) / 0.01, 9);
    expect(status.budget.remainingRatio).toBeCloseTo(1 - (1 - 0.945) / 0.01, 9);
  });
});

describe('a composite across services', () => {
  const folders = tempFolders();
  afterEach(() => folders.cleanup());

  it("reads each component from its own service's series, not the composite's", () => {
    const NOW = Date.UTC(2026, 10, 23, 12, 0);
    const path = folders.write({
      'fleet.yaml': ['checkout', 'orders']
        .map(
          (service) => `apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${service}-availability, service: ${service} }
spec: { indicator: { source: loadbalancer }, objective: 99, window: 28d }
---
`,
        )
        .join('')
        .concat(`apiVersion: sloguard/v1
kind: CompositeSLO
metadata: { name: fleet-availability, service: fleet }
spec:
  objective: 99
  window: 28d
  components: [{ slo: checkout-availability }, { slo: orders-availability }]
`),
    });
    const { definitions, errors } = loadDefinitions([path]);
    expect(errors).toEqual([]);
    const buckets = store();
    const events: Observation[] = [];
    for (let i = 0; i < 100; i++) {
      events.push({ ...event(NOW - 10 * MINUTE + i, '/', i < 2 ? 500 : 200), service: 'checkout' });
      events.push({ ...event(NOW - 10 * MINUTE + i, '/', i < 6 ? 500 : 200), service: 'orders' });
    }
    commit(buckets, events);
    const fleet = definitions.find((d) => d.name === 'fleet-availability')!;
    const status = evaluateSlo(fleet, storeInput(buckets, fleet, buckets.listSeries(), NOW), NOW);
    expect(status.valid).toBe(200);
    expect(status.sli).toBeCloseTo((0.98 + 0.94) / 2, 12);
  });
});

describe('window sums through the read cache', () => {
  it('stay equal to brute force while commits land in the current hour and late into old hours', () => {
    const next = random(77);
    const buckets = store();
    const events: Observation[] = [];
    let now = Date.UTC(2026, 10, 20, 0, 0);
    for (let step = 0; step < 60; step++) {
      now += Math.floor(next() * 90) * MINUTE;
      const batch: Observation[] = [];
      for (let i = 0; i < 40; i++) {
        // Mostly fresh, sometimes up to two days late.
        const late = next() < 0.2 ? Math.floor(next() * 2 * DAY) : Math.floor(next() * 5 * MINUTE);
        batch.push(
          event(
            now - 1 - late,
            next() < 0.5 ? '/a' : '/b',
            next() < 0.1 ? 503 : 200,
            1000 + Math.floor(next() * 500_000),
          ),
        );
      }
      commit(buckets, batch, [200_000]);
      events.push(...batch);
      const ids = buckets.listSeries().map((s) => s.id);
      for (const ms of [5 * MINUTE, HOUR, 6 * HOUR, 3 * DAY]) {
        const inside = events.filter((e) => inWindow(e, Math.floor((now - ms) / MINUTE) * MINUTE, now));
        const latency = buckets.windowCounts(ids, now - ms, now, 200_000);
        expect([latency.total, latency.errors, latency.timed, latency.latencyGood]).toEqual([
          inside.length,
          inside.filter((e) => e.error).length,
          inside.length,
          inside.filter((e) => e.durationUs! <= 200_000).length,
        ]);
        // Without a threshold the hours come summed by SQLite, cached per range.
        const counts = buckets.windowCounts(ids, now - ms, now);
        expect([counts.total, counts.errors]).toEqual([inside.length, inside.filter((e) => e.error).length]);
      }
    }
  });

  it('forgets what it cached when another connection writes to the database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sloguard-cache-'));
    try {
      const path = join(dir, 'sloguard.db');
      const reader = openDatabase(path);
      const writer = openDatabase(path);
      dbs.push(reader, writer);
      const NOW = Date.UTC(2026, 10, 23, 12, 0);
      const mine = new BucketStore(reader, 40);
      new BucketStore(writer, 40).commit(batchOf([event(NOW - 3 * HOUR, '/a', 200)]));
      const ids = () => mine.listSeries().map((s) => s.id);
      expect(mine.windowCounts(ids(), NOW - DAY, NOW).total).toBe(1);
      new BucketStore(writer, 40).commit(batchOf([event(NOW - 3 * HOUR, '/a', 500)]));
      const after = mine.windowCounts(ids(), NOW - DAY, NOW);
      expect([after.total, after.errors]).toEqual([2, 1]);
      // An evaluation pass checks once, at its start.
      new BucketStore(writer, 40).commit(batchOf([event(NOW - 2 * HOUR, '/a', 503)]));
      const pass = mine.readPass(() => mine.windowCounts(ids(), NOW - DAY, NOW));
      expect([pass.total, pass.errors]).toEqual([3, 2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function batchOf(events: Observation[]): BatchAggregate {
  const batch = new BatchAggregate();
  for (const e of events) batch.add(e);
  return batch;
}
