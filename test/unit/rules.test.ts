import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runRules } from '../../src/cli/rules.js';
import { loadDefinitions } from '../../src/definitions/load.js';
import { prometheusRules, ruleFileYaml } from '../../src/rules/promqlRules.js';
import { queryWindows } from '../../src/sources/promql/source.js';
import { CLI, ensureBuilt } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('sloguard-rules-');
});
afterEach(() => dir.cleanup());

const CHECKOUT = `
apiVersion: sloguard/v1
kind: DataSource
metadata: { name: main-prometheus }
spec: { type: prometheus, url: "http://127.0.0.1:9090/", timeout: 2s }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: checkout-availability, service: checkout }
spec:
  indicator:
    source: prometheus
    prometheus:
      dataSource: main-prometheus
      bad: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
  objective: 99.95
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: search-availability, service: search }
spec:
  indicator:
    source: prometheus
    prometheus:
      url: http://127.0.0.1:8428
      good: sum(increase(http_requests_total{job="search",code!~"5.."}[{{.window}}]))
      total: sum(increase(http_requests_total{job="search"}[{{.window}}]))
  objective: 99
  window: 30d
`;

const OPENSLO = `
apiVersion: openslo/v1
kind: DataSource
metadata: { name: shop-prometheus }
spec:
  type: Prometheus
  connectionDetails: { url: "http://127.0.0.1:9090", timeout: 1500ms }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: shop-openslo }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  indicator:
    metadata: { name: shop-errors }
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            metricSourceRef: shop-prometheus
            type: Prometheus
            spec: { query: 'sum(increase(http_requests_total{code=~"5.."}[{{.window}}]))' }
        total:
          metricSource:
            metricSourceRef: shop-prometheus
            type: Prometheus
            spec: { query: 'sum(increase(http_requests_total[{{.window}}]))' }
  objectives: [{ displayName: available, target: 0.99 }]
`;

function promtool(...args: string[]) {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  if (run.error) throw new Error(`promtool is missing: apt-get install prometheus (${run.error.message})`);
  return run;
}

describe('prometheus SLI definitions', () => {
  it('resolves DataSources and keeps the queries', () => {
    const { definitions, errors } = loadDefinitions([dir.file('slos.yaml', CHECKOUT)]);
    expect(errors.map((e) => e.message)).toEqual([]);
    const [checkout, search] = definitions;
    expect(checkout!.indicator.prometheus).toMatchObject({
      dataSource: { name: 'main-prometheus', url: 'http://127.0.0.1:9090', timeoutMs: 2000 },
      bad: 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))',
    });
    expect(search!.indicator.prometheus?.dataSource).toMatchObject({
      url: 'http://127.0.0.1:8428',
      timeoutMs: 5000,
    });
  });

  it('maps OpenSLO ratioMetric with metricSource.type Prometheus and a Prometheus DataSource', () => {
    const { definitions, errors, warnings } = loadDefinitions([dir.file('openslo.yaml', OPENSLO)]);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(warnings).toEqual([]);
    expect(definitions[0]).toMatchObject({
      name: 'shop-openslo',
      service: 'shop',
      objective: 0.99,
      format: 'openslo',
      indicator: {
        source: 'prometheus',
        prometheus: {
          dataSource: { name: 'shop-prometheus', url: 'http://127.0.0.1:9090', timeoutMs: 1500 },
          bad: 'sum(increase(http_requests_total{code=~"5.."}[{{.window}}]))',
          total: 'sum(increase(http_requests_total[{{.window}}]))',
        },
      },
    });
    const rules = prometheusRules(definitions);
    expect(rules.groups[0]!.rules[0]!.expr).toContain('increase(http_requests_total{code=~"5.."}[5m])');
  });

  it('names the OpenSLO field when its Prometheus DataSource is malformed', () => {
    const text = OPENSLO.replace('timeout: 1500ms', 'timeout: soon');
    const { definitions, errors } = loadDefinitions([dir.file('openslo.yaml', text)]);
    expect(definitions).toEqual([]);
    expect(errors[0]!.message).toMatch(
      /openslo\.yaml:\d+:\d+: spec\.connectionDetails\.timeout: expected a duration/,
    );
  });

  it('refuses time-slice budgeting for a PromQL SLI', () => {
    const sliced = CHECKOUT.replace(
      '  window: 28d\n---',
      '  window: 28d\n  budgeting: { timeslices: { slice: 1m, target: 95 } }\n---',
    );
    const { definitions, errors } = loadDefinitions([dir.file('sliced.yaml', sliced)]);
    expect(definitions.map((d) => d.name)).toEqual(['search-availability']);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /sliced\.yaml:\d+:\d+: spec: "checkout-availability" is read with PromQL, which budgets by occurrences only, not timeslices/,
      ),
    ]);
  });

  it('asks a calendar SLO from the start of its period, a rolling one over its length', () => {
    const calendar = CHECKOUT.replace('window: 28d', 'window: { calendar: month, timeZone: Europe/Berlin }');
    const { definitions } = loadDefinitions([dir.file('calendar.yaml', calendar)]);
    // 23 Nov 2026 12:00 UTC: the Berlin month began 1 Nov 00:00 CET (31 Oct 23:00 UTC).
    const at = Date.UTC(2026, 10, 23, 12, 0, 0);
    const windows = queryWindows(definitions[0]!, at);
    expect(windows.window).toBe('22d13h');
    expect(windows.range).toEqual({ startMs: Date.UTC(2026, 9, 31, 23), endMs: Date.UTC(2026, 10, 30, 23) });
    expect(queryWindows(definitions[1]!, at).window).toBe('30d');
    // The reported windows and the 30-day tiers' own (scaled from 28 days: 1h4m/5m, 6h26m/32m, ...).
    expect(queryWindows(definitions[1]!, at).burn.map(([w]) => w)).toEqual([
      '5m',
      '30m',
      '32m',
      '1h',
      '1h4m',
      '2h',
      '2h9m',
      '6h',
      '6h26m',
      '1d',
      '1d1h43m',
      '3d',
      '4d6h51m',
    ]);
  });

  it('refuses a composite over a PromQL SLI rather than show it without data', () => {
    const composite = `${CHECKOUT}---
apiVersion: sloguard/v1
kind: CompositeSLO
metadata: { name: store, service: store }
spec:
  objective: 99.9
  window: 28d
  components: [{ slo: checkout-availability }, { slo: search-availability }]
`;
    const { definitions, errors } = loadDefinitions([dir.file('composite.yaml', composite)]);
    expect(definitions.map((d) => d.name)).toEqual(['checkout-availability', 'search-availability']);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /composite\.yaml:\d+:\d+: spec: composite "store" includes "checkout-availability", read with PromQL/,
      ),
    ]);
  });

  it.each([
    [
      'a query without the window placeholder',
      'good: sum(up)\n      total: sum(up[{{.window}}])',
      'spec.indicator.prometheus.good',
    ],
    [
      'both good and bad',
      'good: a[{{.window}}]\n      bad: b[{{.window}}]\n      total: c[{{.window}}]',
      'spec.indicator.prometheus.good',
    ],
    [
      'an undefined DataSource',
      'dataSource: nowhere\n      good: a[{{.window}}]\n      total: c[{{.window}}]',
      'spec.indicator.prometheus.dataSource',
    ],
  ])('rejects %s at its field', (_what, queries, field) => {
    const engine = queries.includes('dataSource') ? '' : 'url: http://127.0.0.1:9090\n      ';
    const text = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: broken, service: x }
spec:
  indicator:
    source: prometheus
    prometheus:
      ${engine}${queries}
  objective: 99
  window: 28d
`;
    const { definitions, errors } = loadDefinitions([dir.file('broken.yaml', text)]);
    expect(definitions).toEqual([]);
    expect(errors.map((e) => e.field)).toEqual([field]);
    expect(errors[0]!.message).toMatch(/broken\.yaml:\d+:\d+/);
  });
});

describe('sloguard rules --format prometheus', () => {
  it('writes Sloth-style recording and burn-rate alert rules that promtool accepts', () => {
    const { definitions } = loadDefinitions([dir.file('slos.yaml', CHECKOUT)]);
    const file = prometheusRules(definitions);
    const groups = file.groups.map((g) => g.name);
    expect(groups).toEqual([
      'sloguard-slo-sli-recordings-checkout-checkout-availability',
      'sloguard-slo-meta-recordings-checkout-checkout-availability',
      'sloguard-slo-alerts-checkout-checkout-availability',
      'sloguard-slo-sli-recordings-search-search-availability',
      'sloguard-slo-meta-recordings-search-search-availability',
      'sloguard-slo-alerts-search-search-availability',
    ]);
    const sli = file.groups[0]!.rules;
    expect(sli.map((r) => ('record' in r ? r.record : r.alert))).toEqual([
      'slo:sli_error:ratio_rate5m',
      'slo:sli_error:ratio_rate30m',
      'slo:sli_error:ratio_rate1h',
      'slo:sli_error:ratio_rate2h',
      'slo:sli_error:ratio_rate6h',
      'slo:sli_error:ratio_rate1d',
      'slo:sli_error:ratio_rate3d',
      'slo:sli_error:ratio_rate4d',
      'slo:sli_error:ratio_rate28d',
    ]);
    expect(sli[0]).toEqual({
      record: 'slo:sli_error:ratio_rate5m',
      expr: '(sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m])))\n/\n(sum(rate(http_requests_total{job="checkout"}[5m])))',
      labels: {
        sloth_id: 'checkout-checkout-availability',
        sloth_service: 'checkout',
        sloth_slo: 'checkout-availability',
        sloth_window: '5m',
      },
    });
    const [page, ticket] = file.groups[2]!.rules;
    // 28 days: Pyrra's page tiers, above 14× and 7× of a 0.0005 budget.
    expect(page!.expr).toContain('slo:sli_error:ratio_rate5m{sloth_id="checkout-checkout-availability"');
    expect(page!.expr).toContain('> (14 * 0.0005)) without (sloth_window)');
    expect(page!.expr).toContain('> (7 * 0.0005)) without (sloth_window)');
    expect(ticket!.labels.severity).toBe('ticket');
    const search = file.groups[3]!.rules[0]!;
    expect(search.expr).toContain(
      '1 - (\n  (sum(increase(http_requests_total{job="search",code!~"5.."}[5m])))',
    );

    const path = dir.file('rules.yaml', ruleFileYaml(file));
    const check = promtool('check', 'rules', path);
    expect(check.stderr).toBe('');
    // 28 days adds the 4d tier window to the seven reported ones, 30 days six windows of its own.
    expect(check.stdout).toContain('SUCCESS: 39 rules found');
  });

  it('the CLI writes the file and honours --window; a bad --format is a usage error', () => {
    ensureBuilt();
    const slos = dir.file('slos.yaml', CHECKOUT);
    const run = spawnSync(
      process.execPath,
      [CLI, 'rules', '--format', 'prometheus', '--window', '30d', slos],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(0);
    const file = parse(run.stdout) as ReturnType<typeof prometheusRules>;
    const checkoutAlerts = file.groups[2]!.rules[0]!;
    expect(checkoutAlerts.expr).toContain('slo:sli_error:ratio_rate1h4m{');
    expect(checkoutAlerts.expr).toContain('> (14 * 0.0005))');
    expect(file.groups[0]!.rules.at(-1)).toMatchObject({ record: 'slo:sli_error:ratio_rate30d' });
    const usage = spawnSync(process.execPath, [CLI, 'rules', '--format', 'nagios', slos], {
      encoding: 'utf8',
    });
    expect(usage.status).toBe(64);
  });

  it('exits 1 on invalid definitions and 64 on a bad --window, writing nothing', () => {
    const out: string[] = [];
    const err: string[] = [];
    const run = (paths: string[], window?: string) =>
      runRules(
        paths,
        { format: 'prometheus', ...(window && { window }) },
        (t) => out.push(t),
        (t) => err.push(t),
      );
    expect(run([dir.file('x.yaml', 'kind: SLO')])).toBe(1);
    expect(err.join('\n')).toMatch(/x\.yaml:1:1/);
    expect(run([dir.file('slos.yaml', CHECKOUT)], 'a month')).toBe(64);
    expect(err.at(-1)).toBe('--window: expected a duration like 28d or 30d, got "a month"');
    expect(out).toEqual([]);
  });
});
