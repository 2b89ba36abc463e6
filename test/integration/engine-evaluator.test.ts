import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { SloStatus } from '../../src/model/status.js';
import { createSloguard } from '../../src/service.js';
import { engineBreakdown } from '../../src/sources/engine/breakdown.js';
import { instantQuery } from '../../src/sources/promql/client.js';
import { testApp } from '../helpers/app.js';
import {
  BackfilledPrometheus,
  type CollectedObservation,
  contractSeries,
  importLines,
} from '../helpers/contractSeries.js';
import { requireBinary } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { PROMETHEUS_BINARY, PROMTOOL_BINARY } from '../helpers/prometheus.js';
import { seededRandom } from '../helpers/random.js';
import { tempDir } from '../helpers/tmp.js';
import { VICTORIA_METRICS_BINARY, VictoriaMetricsServer } from '../helpers/victoriametrics.js';

const installed =
  requireBinary(PROMETHEUS_BINARY, 'prometheus') &&
  requireBinary(PROMTOOL_BINARY, 'prometheus') &&
  requireBinary(VICTORIA_METRICS_BINARY, 'victoria-metrics');

const GRID_MS = 15_000;
const MINUTE = 60_000;

/** A calendar day whose local midnight fell an hour (and some minutes) before `atMs`: the period starts inside the traffic. */
function zoneWithMidnightBefore(atMs: number): string {
  const midnightHour = (new Date(atMs).getUTCHours() + 23) % 24;
  const offset = (24 - midnightHour) % 24;
  if (offset === 0) return 'UTC';
  return offset <= 14 ? `Etc/GMT-${offset}` : `Etc/GMT+${24 - offset}`;
}

const slos = (zone: string, engines: Record<string, string>, atMs: number) => `
${Object.entries(engines)
  .map(
    ([name, url]) => `apiVersion: sloguard/v1
kind: DataSource
metadata: { name: ${name} }
spec: { type: prometheus, url: "${url}", timeout: 5s }
---`,
  )
  .join('\n')}
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-availability, service: shop }
spec:
  indicator: { source: loadbalancer }
  objective: 99
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-rules, service: shop }
spec:
  indicator:
    source: loadbalancer
    bad: { status: ["5xx", 429] }
    exclude: [{ route: /healthz }, { userAgent: "*bot*" }]
  objective: 98
  window: 28d
  budgeting: { ratioTimeslices: { slice: 5m } }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-latency, service: shop }
spec:
  indicator:
    source: traces
    select: { route: GET /api/items }
    good: { latency: "<= 300ms" }
  objective: 95
  window: 1d
  budgeting: { timeslices: { slice: 1m, target: 90 } }
---
apiVersion: sloguard/v1
kind: CompositeSLO
metadata: { name: shop-browse, service: shop }
spec:
  objective: 99
  window: 28d
  components:
    - { slo: shop-availability, weight: 1 }
    - { slo: shop-latency, weight: 2 }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: pay-today }
spec:
  service: pay
  indicator:
    metadata: { name: pay-ok }
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: sloguard
            spec: { source: loadbalancer, collector: edge, good: { status: "< 500" } }
        total:
          metricSource: { type: sloguard, spec: { source: loadbalancer, collector: edge } }
  timeWindow:
    - duration: 1d
      isRolling: false
      calendar: { startTime: "2024-01-01 00:00:00", timeZone: ${zone} }
  budgetingMethod: Occurrences
  objectives: [{ target: 0.999 }]
---
apiVersion: sloguard/v1
kind: Correction
metadata: { name: burst-excluded }
spec:
  reason: the error burst was a load test
  mode: exclude
  window: { start: "${new Date(atMs - 8 * MINUTE).toISOString()}", end: "${new Date(atMs - 3 * MINUTE).toISOString()}" }
  appliesTo: { services: [shop] }
---
apiVersion: sloguard/v1
kind: Correction
metadata: { name: pay-maintenance }
spec:
  reason: planned maintenance
  mode: planned
  window: { start: "${new Date(atMs - 30 * MINUTE).toISOString()}", end: "${new Date(atMs - 20 * MINUTE).toISOString()}" }
  appliesTo: { services: [pay] }
`;

/**
 * Two hours of traffic up to `untilMs`: load-balancer lines of two services and server and client spans, with
 * 5xx, 429, health checks and bots, a slow spell and an error burst, split over three collectors (the third
 * started 40 minutes before the end, so its series begin inside the burn-rate windows).
 */
function traffic(untilMs: number): CollectedObservation[] {
  const random = seededRandom(21);
  const observations: CollectedObservation[] = [];
  let turn = 0;
  for (let timeMs = untilMs - 120 * MINUTE + 250; timeMs < untilMs; timeMs += 400) {
    const ago = untilMs - timeMs;
    const collectors = ago > 40 * MINUTE ? ['c1', 'c2'] : ['c1', 'c2', 'c3'];
    const collector = collectors[turn++ % collectors.length]!;
    const burst = ago < 10 * MINUTE;
    const slow = ago > 30 * MINUTE && ago < 50 * MINUTE;
    const roll = random();
    const [operation, method] =
      roll < 0.1 ? ['/healthz', 'GET'] : roll < 0.4 ? ['/checkout', 'POST'] : ['/api/items', 'GET'];
    const failed = random() < (burst ? 0.06 : 0.004);
    const status = failed ? 503 : random() < 0.01 ? 429 : 200;
    observations.push({
      timeMs,
      kind: 'loadbalancer',
      source: 'edge',
      service: random() < 0.15 ? 'pay' : 'shop',
      operation,
      method,
      status,
      error: status >= 500,
      durationUs: Math.round(1000 + random() * 400_000),
      userAgent: random() < 0.05 ? 'Googlebot/2.1' : 'curl/8',
      collector,
    });
    if (turn % 2 === 0) {
      const span = random() < 0.8 ? 'server' : 'client';
      const durationUs = Math.round((slow ? 150_000 : 20_000) + random() * (slow ? 400_000 : 320_000));
      observations.push({
        timeMs,
        kind: 'traces',
        source: span,
        service: 'shop',
        operation: 'GET /api/items',
        method: 'GET',
        status: 200,
        error: false,
        durationUs,
        collector,
      });
    }
  }
  return observations;
}

/** What must come out the same whichever way the counts were read. */
const judged = (status: SloStatus) => ({
  name: status.name,
  state: status.state,
  good: status.good,
  valid: status.valid,
  sli: status.sli,
  budget: status.budget,
  burnRates: status.burnRates,
  alerts: status.alerts.map((tier) => [tier.severity, tier.longWindow, tier.state]),
  firing: status.firing,
  slices: status.slices,
  windowEndMs: status.windowEndMs,
  corrections: status.corrections,
});

describe.runIf(installed)('native SLOs evaluated on an engine equal the embedded store', () => {
  const dir = tempDir('sloguard-engine-eval-');
  // Evaluated on a grid point (and a minute) in the past: every collector has written it. Never on the hour: the
  // calendar day's midnight (zoneWithMidnightBefore) then falls an hour and 1–59 minutes before, never exactly 60.
  const lastMinuteMs = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
  const atMs = lastMinuteMs % (60 * MINUTE) === 0 ? lastMinuteMs - MINUTE : lastMinuteMs;
  // A fourth collector, of a service of its own, killed 20 minutes before: its series stop inside the windows.
  const KILLED_MS = atMs - 20 * MINUTE;
  const killedTraffic = Array.from({ length: 1200 }, (_, i) => atMs - 120 * MINUTE + i * 5_000 + 700)
    .filter((timeMs) => timeMs < KILLED_MS)
    .map(
      (timeMs): CollectedObservation => ({
        timeMs,
        kind: 'loadbalancer',
        source: 'edge',
        service: 'gone',
        operation: '/',
        method: 'GET',
        status: 200,
        error: false,
        collector: 'killed',
      }),
    );
  const observations = [...traffic(atMs), ...killedTraffic];
  let victoria: VictoriaMetricsServer;
  let prometheus: BackfilledPrometheus;
  let embedded: Awaited<ReturnType<typeof testApp>>;
  const onEngine: Record<string, Awaited<ReturnType<typeof testApp>>> = {};

  const gate = async (app: Awaited<ReturnType<typeof testApp>>, service: string) => {
    const response = await app.app.inject({ url: `/api/v1/gate?service=${service}&environment=production` });
    const body = response.json() as { decision: string; reason: string; slos: unknown[] };
    return { status: response.statusCode, decision: body.decision, reason: body.reason, slos: body.slos };
  };

  beforeAll(async () => {
    mkdirSync(join(dir.path, 'slos'));
    const definitionsPath = join(dir.path, 'slos');
    const zone = zoneWithMidnightBefore(atMs);
    dir.file('slos/slos.yaml', slos(zone, {}, atMs));
    embedded = await testApp({ definitionsPath }, {}, { evaluate: false });
    const { pipeline, registry } = embedded.sloguard;
    const batch = pipeline.newBatch();
    for (const observation of observations) batch.add(observation);
    const committed = pipeline.submit(batch);
    pipeline.flush();
    await committed;
    await embedded.sloguard.evaluator.tick(atMs);

    const series = contractSeries(observations, registry, GRID_MS, atMs, { killed: KILLED_MS });
    [victoria, prometheus] = await Promise.all([
      VictoriaMetricsServer.start(),
      BackfilledPrometheus.start(series),
    ]);
    const lines = importLines(series);
    for (let from = 0; from < lines.length; from += 20_000)
      await victoria.importPrometheus(lines.slice(from, from + 20_000));

    // A DataSource on a port nothing listens on: an engine that does not answer.
    const dead = `http://127.0.0.1:${await freePort()}`;
    dir.file(
      'slos/slos.yaml',
      slos(zone, { victoria: victoria.url, prometheus: prometheus.url, dead }, atMs),
    );
    for (const engine of ['victoria', 'prometheus']) {
      onEngine[engine] = await testApp(
        { definitionsPath, engine: { dataSource: engine, gridMs: GRID_MS, delayMs: 0 } },
        {},
        { evaluate: false },
      );
      await onEngine[engine]!.sloguard.evaluator.tick(atMs);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([embedded?.close(), ...Object.values(onEngine).map((app) => app.close())]);
    await Promise.all([victoria?.stop(), prometheus?.stop()]);
    dir.cleanup();
  });

  it('refuses to start when data.engine names no DataSource', () => {
    const config = {
      ...loadConfig({ SLOGUARD_LOG_LEVEL: 'silent' }),
      databasePath: join(dir.path, 'refused.db'),
      definitionsPath: join(dir.path, 'slos'),
      engine: { dataSource: 'nowhere', gridMs: GRID_MS, delayMs: 0 },
    };
    expect(() => createSloguard(config)).toThrow('data.engine: no DataSource named "nowhere"');
  });

  it('counts what a killed collector wrote exactly on VictoriaMetrics, and within the documented bound on Prometheus', async () => {
    const query = 'sum(increase(sloguard_requests_total{service="gone"}[1h]))';
    // What the collector wrote in the hour: its increments stamped after atMs − 1h, up to its last grid point.
    const written = killedTraffic.filter((o) => o.timeMs >= atMs - 60 * MINUTE).length;
    const ask = (url: string) => instantQuery({ name: 'engine', url, timeoutMs: 5_000 }, query, atMs);
    expect(await ask(victoria.url)).toBe(written);
    // Prometheus extrapolates the stopped end by half the average sample interval: at most that share more.
    const extrapolated = await ask(prometheus.url);
    const sampledMs = KILLED_MS - (atMs - 60 * MINUTE);
    expect(extrapolated).toBeGreaterThan(written);
    expect(extrapolated).toBeLessThanOrEqual(written * (1 + GRID_MS / 2 / sampledMs) + 1e-9);
  });

  it('answers 503 source_unavailable for a breakdown when the engine does not answer, as for a chart', async () => {
    const app = await testApp(
      {
        definitionsPath: join(dir.path, 'slos'),
        engine: { dataSource: 'dead', gridMs: GRID_MS, delayMs: 0 },
      },
      {},
      { evaluate: false },
    );
    try {
      for (const route of ['breakdown', 'timeseries']) {
        const response = await app.app.inject({ url: `/api/v1/slos/shop-availability/${route}` });
        expect(response.statusCode).toBe(503);
        expect(response.json()).toMatchObject({ error: 'source_unavailable' });
      }
    } finally {
      await app.close();
    }
  });

  for (const engine of ['victoria', 'prometheus']) {
    it(`gives ${engine} the same SLIs, budgets, burn rates and slices as the store`, () => {
      const expected = embedded.sloguard.evaluator.current().map(judged);
      expect(expected.map((s) => s.name)).toEqual([
        'shop-availability',
        'shop-rules',
        'shop-latency',
        'pay-today',
        'shop-browse',
      ]);
      // The traffic makes every method count: events in every SLO, slices of both kinds, a burst that burns.
      for (const status of expected) expect(status.valid).toBeGreaterThan(100);
      expect(expected.find((s) => s.name === 'shop-latency')!.slices!.bad).toBeGreaterThan(0);
      // 24 closed slices of 5 minutes, less the one or two the excluded interval overlaps.
      expect(expected.find((s) => s.name === 'shop-rules')!.slices!.valid).toBeGreaterThanOrEqual(22);
      expect(embedded.sloguard.evaluator.current().every((s) => s.staleReason === undefined)).toBe(true);
      // Corrections apply: the burst's excluded events leave shop's SLOs, pay's maintenance is reported.
      expect(
        expected.find((s) => s.name === 'shop-availability')!.corrections!.excluded.valid,
      ).toBeGreaterThan(0);
      expect(expected.find((s) => s.name === 'pay-today')!.corrections!.planned.valid).toBeGreaterThan(0);
      // The calendar day began inside the traffic: its window counts from the period start, not a day back.
      const today = embedded.sloguard.evaluator.status('pay-today')!;
      expect(atMs - today.windowStartMs).toBeGreaterThan(60 * MINUTE);
      expect(atMs - today.windowStartMs).toBeLessThan(120 * MINUTE);
      const actual = onEngine[engine]!.sloguard.evaluator.current();
      expect(actual.map((s) => s.staleReason)).toEqual(actual.map(() => undefined));
      expect(actual.map(judged)).toEqual(expected);
    });

    it(`draws the SLO charts of ${engine} as the store draws them`, async () => {
      const chart = async (app: Awaited<ReturnType<typeof testApp>>, slo: string) => {
        // The range holds the burst's excluded interval (atMs − 8m to atMs − 3m): both leave its events out.
        const from = new Date(atMs - 70 * MINUTE).toISOString();
        const to = new Date(atMs).toISOString();
        const response = await app.app.inject({
          url: `/api/v1/slos/${slo}/timeseries?from=${from}&to=${to}&step=5m`,
        });
        expect(response.statusCode).toBe(200);
        const body = response.json() as { points: Array<Record<string, unknown>>; corrections: unknown[] };
        const points = body.points.map(
          ({ t, sli, good, valid, budget_remaining, burn_rates, bad_per_second }) => ({
            t,
            sli,
            good,
            valid,
            budget_remaining,
            burn_rates,
            bad_per_second,
          }),
        );
        return { points, corrections: body.corrections };
      };
      for (const slo of ['shop-availability', 'shop-rules', 'shop-latency', 'shop-browse']) {
        const expected = await chart(embedded, slo);
        // Every 5 minutes of the 70, and `to` itself when it is not on a 5-minute mark.
        expect(expected.points.length).toBeGreaterThanOrEqual(14);
        expect(expected.corrections).toEqual([
          {
            mode: 'exclude',
            start: new Date(atMs - 8 * MINUTE).toISOString(),
            end: new Date(atMs - 3 * MINUTE).toISOString(),
          },
        ]);
        expect(await chart(onEngine[engine]!, slo)).toEqual(expected);
      }
    });

    it(`ranks the series that spent the budget on ${engine} as the store ranks them`, async () => {
      const breakdown = async (app: Awaited<ReturnType<typeof testApp>>, url: string) => {
        const response = await app.app.inject({ url });
        expect(response.statusCode).toBe(200);
        return response.json() as { groups: Array<{ valid: number; bad: number; series: unknown[] }> };
      };
      const at = (minutesAgo: number) => new Date(atMs - minutesAgo * MINUTE).toISOString();
      // Steps on whole minutes, and a range whose edges are not (the store counts whole minutes from and to them).
      const ranges = [
        `from=${at(90)}&to=${at(0)}&steps=6`,
        `from=${new Date(atMs - 87.5 * MINUTE).toISOString()}&to=${at(0)}&steps=7&sort=sli&limit=2`,
        `from=${at(110)}&to=${new Date(atMs - 4.5 * MINUTE).toISOString()}&steps=1`,
      ];
      for (const slo of ['shop-availability', 'shop-rules', 'shop-latency', 'shop-browse', 'pay-today']) {
        for (const range of ranges) {
          const url = `/api/v1/slos/${slo}/breakdown?${range}`;
          const expected = await breakdown(embedded, url);
          // Every group ranks series that counted events, some of them bad.
          for (const group of expected.groups) {
            expect(group.series.length).toBeGreaterThan(0);
            expect(group.valid).toBeGreaterThan(100);
          }
          expect(await breakdown(onEngine[engine]!, url)).toEqual(expected);
        }
      }
      expect(
        (await breakdown(embedded, `/api/v1/slos/shop-availability/breakdown?${ranges[0]}`)).groups[0]!.bad,
      ).toBeGreaterThan(0);
    });

    it(`refuses a breakdown of more series than the cap rather than read them all from ${engine}`, async () => {
      const definition = onEngine[engine]!.sloguard.registry.byName.get('shop-availability')!;
      const dataSource = onEngine[engine]!.sloguard.definitions.dataSources.get(engine)!;
      const range = { fromMs: atMs - 60 * MINUTE, toMs: atMs, stepMs: 10 * MINUTE };
      expect(await engineBreakdown(definition, dataSource, range, 1)).toEqual({
        failure: 'the engine holds more than 1 series for "shop-availability"',
      });
      // /healthz, /checkout and /api/items, each summed over the three collectors.
      const read = await engineBreakdown(definition, dataSource, range, 3);
      expect('series' in read && read.series.map((s) => s.operation).sort()).toEqual([
        '/api/items',
        '/checkout',
        '/healthz',
      ]);
    });

    it(`answers the gate from ${engine} as from the store`, async () => {
      for (const service of ['shop', 'pay']) {
        const expected = await gate(embedded, service);
        expect(await gate(onEngine[engine]!, service)).toEqual(expected);
      }
      expect((await gate(embedded, 'pay')).decision).toBe('deny');
    });

    it(`charges a release with the budget it burned on ${engine} as on the store`, async () => {
      // A release an hour before atMs (not recorded, so the gate tests see none): its hour and day after end at atMs.
      const release = {
        id: 'release',
        service: 'shop',
        environment: 'production',
        version: '2',
        deployedAtMs: atMs - 60 * MINUTE,
        decisionId: null,
        source: 'api' as const,
        changeType: 'feature' as const,
        commitAtMs: null,
      };
      const expected = await embedded.sloguard.deployments.impact(release, atMs);
      expect(expected.map((i) => i.slo)).toEqual([
        'shop-availability',
        'shop-rules',
        'shop-latency',
        'shop-browse',
      ]);
      for (const impact of expected) expect(impact.periods['1h'].valid).toBeGreaterThan(100);
      // The burst after the release burned budget above the error ratio running before it.
      expect(expected[0]!.periods['1h'].chargedBad).toBeGreaterThan(0);
      expect(await onEngine[engine]!.sloguard.deployments.impact(release, atMs)).toEqual(expected);
    });
  }

  // Last: it ticks the engine evaluators again, earlier then at atMs.
  for (const engine of ['victoria', 'prometheus']) {
    it(`keeps ${engine}'s finished slices and asks only the new ones, answering as a fresh read`, async () => {
      const app = onEngine[engine]!;
      await app.sloguard.evaluator.tick(atMs - 5 * MINUTE);
      // Slices are read by range queries (and a few new ones by the instant queries windows share).
      const rangeStarts: number[] = [];
      const realFetch = globalThis.fetch;
      const spy = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
        if (String(input).endsWith('/api/v1/query_range'))
          rangeStarts.push(Number(new URLSearchParams(String(init?.body)).get('start')) * 1000);
        return realFetch(input, init);
      });
      try {
        await app.sloguard.evaluator.tick(atMs);
      } finally {
        spy.mockRestore();
      }
      // Only the five 1-minute slices that closed since (a cold tick asks shop-latency's from a day back, and
      // shop-rules' 5-minute ones from its window's start); the one new 5-minute slice is one grouped query.
      expect(rangeStarts).toEqual([atMs - 4 * MINUTE, atMs - 4 * MINUTE]);
      const expected = embedded.sloguard.evaluator.current().map(judged);
      expect(app.sloguard.evaluator.current().map(judged)).toEqual(expected);
    });
  }
});
