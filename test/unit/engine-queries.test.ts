import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { resolveEngine } from '../../src/config/engine.js';
import { loadDefinitions } from '../../src/definitions/load.js';
import type { PrometheusDataSource } from '../../src/model/promql.js';
import { prometheusRules, ruleFileYaml } from '../../src/rules/promqlRules.js';
import { enginePlan } from '../../src/sources/engine/plan.js';
import {
  engineIndicator,
  engineReadTime,
  leSpellings,
  promQlString,
  seriesMatchers,
} from '../../src/sources/engine/queries.js';
import { closedSliceSpan, queryWindows } from '../../src/sources/promql/source.js';
import { tempDir } from '../helpers/tmp.js';

const ENGINE: PrometheusDataSource = { name: 'engine', url: 'http://127.0.0.1:8428', timeoutMs: 1000 };

const SLOS = `
apiVersion: sloguard/v1
kind: DataSource
metadata: { name: engine }
spec: { type: prometheus, url: "http://127.0.0.1:8428" }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-available, service: shop }
spec:
  indicator: { source: loadbalancer }
  objective: 99.9
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-checkout-rules, service: shop }
spec:
  indicator:
    source: loadbalancer
    select: { route: "/checkout", method: POST }
    bad: { status: ["5xx", 429] }
    exclude: [{ userAgent: "*bot*" }]
  objective: 99
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-fast, service: shop }
spec:
  indicator:
    source: traces
    select: { route: 'GET /a"b\\c' }
    good: { latency: "<= 300ms" }
  objective: 99
  window: 7d
  budgeting: { timeslices: { slice: 5m, target: 95 } }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-engine-promql, service: shop }
spec:
  indicator:
    source: prometheus
    prometheus:
      dataSource: engine
      bad: sum(increase(x{code=~"5.."}[{{.window}}]))
      total: sum(increase(x[{{.window}}]))
  objective: 99
  window: 28d
`;

function definitions() {
  const dir = tempDir('sloguard-engine-queries-');
  try {
    const loaded = loadDefinitions([dir.file('slos.yaml', SLOS)]);
    expect(loaded.errors.map((e) => e.message)).toEqual([]);
    return loaded;
  } finally {
    dir.cleanup();
  }
}

describe('PromQL generated over the collectors series', () => {
  const loaded = definitions();
  const byName = new Map(loaded.definitions.map((d) => [d.name, d]));
  const slo = (name: string) => byName.get(name)!;

  it('reads the seed rule from requests and errors, with the collector (OpenSLO) as the series source', () => {
    const definition = slo('shop-available');
    const indicator = { ...definition.indicator, select: { collector: 'edge-nginx' } };
    expect(engineIndicator(definition, indicator, ENGINE)).toMatchObject({
      dataSource: ENGINE,
      bad: 'sum(increase(sloguard_request_errors_total{kind="loadbalancer",service="shop",source="edge-nginx"}[{{.window}}]))',
      total:
        'sum(increase(sloguard_requests_total{kind="loadbalancer",service="shop",source="edge-nginx"}[{{.window}}]))',
    });
  });

  it('reads declared rules from their exact valid and bad counts, by the rule id ingest counts them under', () => {
    const definition = slo('shop-checkout-rules');
    const id = definition.indicator.rules!.id;
    const matchers = `kind="loadbalancer",service="shop",operation="/checkout",method="POST",rule="${id}"`;
    expect(engineIndicator(definition, definition.indicator, ENGINE)).toMatchObject({
      dataSource: ENGINE,
      bad: `sum(increase(sloguard_rule_events_total{${matchers},verdict="bad"}[{{.window}}]))`,
      total: `sum(increase(sloguard_rule_events_total{${matchers},verdict="valid"}[{{.window}}]))`,
    });
  });

  it('reads latency from the bucket at the threshold, server spans by default, and escapes label values', () => {
    const definition = slo('shop-fast');
    const matchers = String.raw`kind="traces",service="shop",operation="GET /a\"b\\c",source="server"`;
    expect(engineIndicator(definition, definition.indicator, ENGINE)).toMatchObject({
      dataSource: ENGINE,
      good: `sum(increase(sloguard_request_duration_seconds_bucket{${matchers},le="0.3"}[{{.window}}]))`,
      total: `sum(increase(sloguard_request_duration_seconds_count{${matchers}}[{{.window}}]))`,
    });
  });

  it('asks every series of a kind at once and picks the series the SLO selects, as the store selects them', () => {
    const definition = slo('shop-fast');
    const { grouped } = engineIndicator(definition, definition.indicator, ENGINE);
    const by = 'sum by (kind, service, operation, method, source)';
    expect(grouped!.counted).toBe(
      `${by} (increase(sloguard_request_duration_seconds_bucket{kind="traces",le="0.3"}[{{.window}}]))`,
    );
    expect(grouped!.total).toBe(
      `${by} (increase(sloguard_request_duration_seconds_count{kind="traces"}[{{.window}}]))`,
    );
    const row = (labels: Record<string, string>, value: number) => ({
      labels: {
        kind: 'traces',
        service: 'shop',
        operation: 'GET /a"b\\c',
        method: 'GET',
        source: 'server',
        ...labels,
      },
      value,
    });
    const answer = [
      row({}, 5),
      row({ method: 'POST' }, 7),
      row({ source: 'client' }, 100),
      row({ service: 'other' }, 1000),
      row({ operation: '/x' }, 10_000),
    ];
    expect(grouped!.pick(answer)).toBe(12);
  });

  it('matches several span kinds as a regex of literals', () => {
    const definition = slo('shop-fast');
    const indicator = { ...definition.indicator, select: { spanKinds: ['server', 'con.sumer'] } };
    expect(seriesMatchers(definition, indicator).at(-1)).toBe(String.raw`source=~"server|con\\.sumer"`);
    expect(promQlString('a\nb')).toBe(String.raw`"a\nb"`);
  });

  it('spells bucket bounds as Prometheus does, and as JavaScript does where they differ', () => {
    expect(leSpellings(0.5)).toEqual(['0.5']);
    expect(leSpellings(1)).toEqual(['1']);
    expect(leSpellings(0.0001)).toEqual(['0.0001']);
    expect(leSpellings(0.00005)).toEqual(['5e-05', '0.00005']);
    expect(leSpellings(0.000001)).toEqual(['1e-06', '0.000001']);
  });

  it('reads at the last grid point at least the delay old', () => {
    expect(engineReadTime(1_000_059_999, 15_000, 15_000)).toBe(1_000_035_000);
    expect(engineReadTime(1_000_050_000, 15_000, 0)).toBe(1_000_050_000);
  });

  it('leaves hand-written PromQL to its own plan and fails native SLOs when the DataSource is missing', () => {
    const settings = resolveEngine({ engine: 'engine' }, () => {
      throw new Error('unexpected');
    })!;
    expect(settings).toEqual({ dataSource: 'engine', gridMs: 15_000, delayMs: 15_000 });
    const plan = enginePlan(settings, () => loaded.dataSources);
    expect(plan.reads(slo('shop-engine-promql'))).toBe(false);
    expect(plan.reads(slo('shop-fast'))).toBe(true);
    const reading = plan.reading(slo('shop-fast'), 1_000_059_999);
    expect(reading).toMatchObject({ atMs: 1_000_035_000 });
    expect(plan.reading(slo('shop-fast'), 0)).toMatchObject({
      indicators: 'indicators' in reading ? reading.indicators : [],
    });
    const missing = enginePlan({ ...settings, dataSource: 'nowhere' }, () => loaded.dataSources);
    expect(missing.reading(slo('shop-fast'), 0)).toEqual({
      failure: 'data.engine: no DataSource named "nowhere"',
    });
  });

  it('exports native SLOs as rules over the collectors series when asked, and promtool accepts them', () => {
    expect(prometheusRules(loaded.definitions).groups.map((g) => g.name)).toEqual(
      expect.not.arrayContaining([expect.stringContaining('shop-available')]),
    );
    const file = prometheusRules(loaded.definitions, { native: true });
    const sli = file.groups.find((g) => g.name === 'sloguard-slo-sli-recordings-shop-shop-available')!;
    expect(sli.rules[0]).toMatchObject({
      record: 'slo:sli_error:ratio_rate5m',
      expr: '(sum(increase(sloguard_request_errors_total{kind="loadbalancer",service="shop"}[5m])))\n/\n(sum(increase(sloguard_requests_total{kind="loadbalancer",service="shop"}[5m])))',
    });
    expect(file.groups.filter((g) => g.name.startsWith('sloguard-slo-alerts-'))).toHaveLength(4);
    const dir = tempDir('sloguard-engine-rules-');
    try {
      const check = spawnSync('promtool', ['check', 'rules', dir.file('rules.yaml', ruleFileYaml(file))], {
        encoding: 'utf8',
      });
      expect(check.stdout + check.stderr).toContain('SUCCESS');
    } finally {
      dir.cleanup();
    }
  });

  it('reads data.engine from sloguard.yaml, naming the field it refuses', () => {
    const dir = tempDir('sloguard-engine-config-');
    try {
      const config = (text: string) => loadConfig({ SLOGUARD_CONFIG: dir.file('sloguard.yaml', text) });
      expect(config('data: { engine: metrics, interval: 30s }\n').engine).toEqual({
        dataSource: 'metrics',
        gridMs: 30_000,
        delayMs: 30_000,
      });
      expect(config('port: 9411\n').engine).toBeUndefined();
      expect(() => config('data: { engine: metrics, interval: 45s }\n')).toThrow(ConfigError);
      expect(() => config('data: { engine: metrics, interval: 45s }\n')).toThrow(/^data.interval: /);
      expect(() => config('data: { interval: 15s }\n')).toThrow(/data/);
    } finally {
      dir.cleanup();
    }
  });

  it('refuses a grid that does not divide a minute', () => {
    const fail = (field: string, message: string): never => {
      throw new Error(`${field}: ${message}`);
    };
    expect(() => resolveEngine({ engine: 'e', interval: '2m' }, fail)).toThrow(/data.interval/);
    expect(() => resolveEngine({ engine: 'e', delay: '1h' }, fail)).toThrow(/data.delay/);
    expect(resolveEngine({ engine: 'e', interval: '30s', delay: '0s' }, fail)).toEqual({
      dataSource: 'e',
      gridMs: 30_000,
      delayMs: 0,
    });
  });

  it('cuts the closed slices where the store cuts them', () => {
    const definition = slo('shop-fast');
    const atMs = Date.UTC(2026, 0, 10, 12, 7, 30);
    const { range } = queryWindows(definition, atMs);
    const span = closedSliceSpan(definition, range, 300_000, atMs);
    // The first slice starts on the first multiple of 5m in the window; the last closed one ends at 12:05.
    expect(span.firstEndMs).toBe(Math.ceil(range.startMs / 300_000) * 300_000 + 300_000);
    expect(span.firstEndMs + (span.count - 1) * 300_000).toBe(Date.UTC(2026, 0, 10, 12, 5));
  });
});
