import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/definitions/load.js';
import { PrometheusCounts } from '../../src/sources/promql/source.js';
import { GOOD_RATIO, requestSamples, TestExporter } from '../helpers/exporter.js';
import { requireBinary } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import {
  PROMETHEUS_BINARY,
  PROMTOOL_BINARY,
  PrometheusServer,
  TEST_PASSWORD,
  TEST_PASSWORD_BCRYPT,
} from '../helpers/prometheus.js';
import { CLI, ensureBuilt, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { VICTORIA_METRICS_BINARY, VictoriaMetricsServer } from '../helpers/victoriametrics.js';
import { waitFor } from '../helpers/wait.js';

const installed =
  requireBinary(PROMETHEUS_BINARY, 'prometheus') &&
  requireBinary(PROMTOOL_BINARY, 'prometheus') &&
  requireBinary(VICTORIA_METRICS_BINARY, 'victoria-metrics');

interface SloView {
  name: string;
  state: string;
  sli: number | null;
  valid: number;
  objective: number;
  burn_rates: Record<string, number | null>;
  stale: boolean;
  stale_reason?: string;
}

const dataSource = (name: string, url: string, auth = '') => `
apiVersion: sloguard/v1
kind: DataSource
metadata: { name: ${name} }
spec: { type: prometheus, url: "${url}", timeout: 1s${auth} }
`;

/** An availability SLO over the exporter's series, by good or by bad events. */
const slo = (name: string, service: string, source: string, counted: 'good' | 'bad', job: string) => `
apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${name}, service: ${service} }
spec:
  indicator:
    source: prometheus
    prometheus:
      dataSource: ${source}
      ${counted}: sum(increase(http_requests_total{job="${job}",code${counted === 'good' ? '!~' : '=~'}"5.."}[{{.window}}]))
      total: sum(increase(http_requests_total{job="${job}"}[{{.window}}]))
  objective: 99
  window: 28d
`;

/** The same SLI in OpenSLO: a Prometheus DataSource and a ratioMetric of Prometheus queries. */
const openSlo = (name: string, url: string, job: string) => `
apiVersion: openslo/v1
kind: DataSource
metadata: { name: ${name}-engine }
spec: { type: Prometheus, connectionDetails: { url: "${url}", timeout: 1s } }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: ${name} }
spec:
  service: ${name}
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  indicator:
    metadata: { name: ${name}-requests }
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            metricSourceRef: ${name}-engine
            type: Prometheus
            spec: { query: 'sum(increase(http_requests_total{job="${job}",code!~"5.."}[{{.window}}]))' }
        total:
          metricSource:
            metricSourceRef: ${name}-engine
            type: Prometheus
            spec: { query: 'sum(increase(http_requests_total{job="${job}"}[{{.window}}]))' }
  objectives: [{ displayName: available, target: 0.99 }]
`;

const policy = (service: string, onNoData: string) => `
apiVersion: sloguard/v1
kind: GatePolicy
metadata: { name: ${service}-policy }
spec: { service: ${service}, onNoData: ${onNoData} }
`;

describe.runIf(installed)('SLIs from real Prometheus and VictoriaMetrics', () => {
  const dir = tempDir('sloguard-prom-it-');
  let exporter: TestExporter;
  let prometheus: PrometheusServer;
  let victoria: VictoriaMetricsServer;
  let sloguard: SloguardProcess;
  let rulesPath: string;
  let importedUntilMs: number;

  beforeAll(async () => {
    ensureBuilt();
    [exporter, victoria] = await Promise.all([TestExporter.start(), VictoriaMetricsServer.start()]);
    // The same series VictoriaMetrics would have scraped: one step every 10 s for the last 10 minutes.
    const now = Date.now();
    importedUntilMs = now - 50_000;
    const steps = Array.from({ length: 55 }, (_, i) => i + 1);
    await victoria.importPrometheus(
      steps.flatMap((step) => requestSamples('shop', step, now - 600_000 + step * 10_000)),
    );
    const prometheusPort = await freePort();
    mkdirSync(join(dir.path, 'slos'));
    const definitions = dir.file(
      'slos/slos.yaml',
      [
        dataSource('prometheus', `http://127.0.0.1:${prometheusPort}`),
        dataSource('victoria', victoria.url),
        slo('shop-availability', 'shop', 'prometheus', 'good', 'shop'),
        slo('shop-vm-availability', 'shop-vm', 'victoria', 'bad', 'shop'),
        policy('shop-vm', 'deny'),
        openSlo('shop-openslo', `http://127.0.0.1:${prometheusPort}`, 'shop'),
      ].join('---'),
    );
    const rules = spawnSync(process.execPath, [CLI, 'rules', '--format', 'prometheus', definitions], {
      encoding: 'utf8',
    });
    expect(rules.stderr).toBe('');
    rulesPath = dir.file('rules.yaml', rules.stdout);
    sloguard = await SloguardProcess.start({ definitions: join(dir.path, 'slos') });
    prometheus = await PrometheusServer.start({
      port: prometheusPort,
      ruleFiles: [rulesPath],
      targets: [
        { job: 'shop', target: exporter.target },
        { job: 'sloguard', target: `127.0.0.1:${sloguard.port}` },
      ],
    });
  });

  afterAll(async () => {
    await sloguard?.cleanup();
    await prometheus?.stop();
    await victoria?.stop();
    await exporter?.stop();
    dir.cleanup();
  });

  const status = async (name: string) => (await sloguard.json<SloView>(`/api/v1/slos/${name}`)).body;

  it('reads the SLI from Prometheus scraping the exporter: good ÷ total as the counters set it', async () => {
    const view = await waitFor(
      'sloguard to read shop-availability from Prometheus',
      async () => {
        const s = await status('shop-availability');
        return s.valid > 0 && s.burn_rates['5m'] !== null && !s.stale && s;
      },
      { intervalMs: 250 },
    );
    expect(view.state).toBe('exhausted');
    expect(view.sli).toBeCloseTo(GOOD_RATIO, 12);
    // 2.5% errors against a 1% budget: burning at 2.5 in every window.
    expect(view.burn_rates['5m']).toBeCloseTo(2.5, 10);
    expect(view.burn_rates['1h']).toBeCloseTo(2.5, 10);
    // The same queries written as OpenSLO read the same numbers.
    const openslo = await waitFor('shop-openslo', async () => {
      const s = await status('shop-openslo');
      return s.valid > 0 && s;
    });
    expect(openslo.sli).toBeCloseTo(GOOD_RATIO, 12);
  });

  it('reads the same SLI from VictoriaMetrics fed the same series', async () => {
    const view = await waitFor('shop-vm-availability', async () => {
      const s = await status('shop-vm-availability');
      return s.valid > 0 && s;
    });
    expect(view.sli).toBeCloseTo(GOOD_RATIO, 12);
    expect(view.burn_rates['5m']).toBeCloseTo(2.5, 10);
    expect(view.valid % 1000).toBe(0);
  });

  it('charts a PromQL SLO from range queries: SLI, burn and traffic per step', async () => {
    // The imported series cover 9 minutes, 1000 requests every 10 s; chart the last 5 of them.
    const to = Math.floor(importedUntilMs / 1000) - 5;
    const { status, body } = await sloguard.json<{
      points: Array<{
        sli: number;
        burn_rates: Record<string, number>;
        requests_per_second: number;
        bad_per_second: number;
      }>;
    }>(`/api/v1/slos/shop-vm-availability/timeseries?from=${to - 300}&to=${to}&step=1m`);
    expect(status).toBe(200);
    expect(body.points.length).toBeGreaterThanOrEqual(4);
    for (const point of body.points) {
      expect(point.sli).toBeCloseTo(GOOD_RATIO, 12);
      expect(point.burn_rates['5m']).toBeCloseTo(2.5, 10);
      expect(point.requests_per_second).toBeCloseTo(100, 9);
      expect(point.bad_per_second).toBeCloseTo(2.5, 9);
    }
  });

  it('exports rules promtool accepts; Prometheus evaluates slo:sli_error:ratio_rate5m to sloguard’s own input', async () => {
    const check = spawnSync(PROMTOOL_BINARY, ['check', 'rules', rulesPath], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    // Three 28-day SLOs of 17 rules: eight burn windows (the seven reported, the tiers' 4d), the period, six meta, two alerts.
    expect(check.stdout).toContain('SUCCESS: 51 rules found');
    const [recorded] = await waitFor(
      'the recording rule to produce a series',
      async () => {
        const result = await prometheus.query('slo:sli_error:ratio_rate5m{sloth_slo="shop-availability"}');
        return result.length > 0 && result;
      },
      { intervalMs: 250 },
    );
    expect(recorded!.metric).toMatchObject({ sloth_service: 'shop', sloth_window: '5m' });
    const own = await status('shop-availability');
    // sloguard's 5m burn rate is this error ratio ÷ (1 − objective).
    expect(Number(recorded!.value[1])).toBeCloseTo(own.burn_rates['5m']! * (1 - own.objective), 12);
    expect(Number(recorded!.value[1])).toBeCloseTo(1 - GOOD_RATIO, 12);
    const [burn] = await waitFor('slo:current_burn_rate:ratio', async () => {
      const result = await prometheus.query('slo:current_burn_rate:ratio{sloth_slo="shop-availability"}');
      return result.length > 0 && result;
    });
    expect(Number(burn!.value[1])).toBeCloseTo(own.burn_rates['5m']!, 9);
  });

  it('a real Prometheus scrapes /metrics without errors and sees the same SLI', async () => {
    const target = await waitFor(
      'the sloguard target to be scraped',
      async () =>
        (await prometheus.targets()).find((t) => t.labels.job === 'sloguard' && t.health !== 'unknown'),
      { intervalMs: 250 },
    );
    expect(target).toMatchObject({ health: 'up', lastError: '' });
    const [sli] = await waitFor('sloguard_slo_sli_ratio in Prometheus', async () => {
      const result = await prometheus.query('sloguard_slo_sli_ratio{slo="shop-availability"}');
      return result.length > 0 && result;
    });
    expect(Number(sli!.value[1])).toBeCloseTo(GOOD_RATIO, 12);
    const up = await prometheus.query('up{job="sloguard"}');
    expect(up[0]?.value[1]).toBe('1');
  });

  it('an engine that goes down makes its SLO stale and the gate apply on_no_data within the timeout', async () => {
    const before = await sloguard.json<{ decision: string }>(
      '/api/v1/gate?service=shop-vm&environment=staging',
    );
    expect(before.body.decision).not.toBe('error');
    await victoria.stop();
    const stoppedAt = Date.now();
    await waitFor(
      'shop-vm-availability to go stale',
      async () => (await status('shop-vm-availability')).stale,
      {
        intervalMs: 100,
      },
    );
    // One tick (1 s) plus the query timeout (1 s), with room for a busy CI machine.
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    const asked = Date.now();
    const gate = await sloguard.json<{ decision: string; reason: string; stale: boolean }>(
      '/api/v1/gate?service=shop-vm&environment=staging',
    );
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect(gate.status).toBe(423);
    expect(gate.body).toMatchObject({ decision: 'deny', stale: true });
    expect(gate.body.reason).toContain('on_no_data: deny');
    const chart = await sloguard.json<{ error: string }>(
      '/api/v1/slos/shop-vm-availability/timeseries?step=1h',
    );
    expect(chart.status).toBe(503);
    expect(chart.body.error).toBe('source_unavailable');
    // The healthy engine's SLO is untouched.
    expect((await status('shop-availability')).stale).toBe(false);
  });
});

describe.runIf(installed)('an engine that never answers', () => {
  let silent: Server;
  let port: number;
  let sloguard: SloguardProcess;
  const dir = tempDir('sloguard-prom-slow-');

  beforeAll(async () => {
    ensureBuilt();
    // Accepts the connection and the query, then says nothing: the slow engine.
    silent = createServer(() => {});
    port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    const downPort = await freePort();
    dir.file(
      'slos.yaml',
      [
        dataSource('slow', `http://127.0.0.1:${port}`),
        dataSource('down', `http://127.0.0.1:${downPort}`),
        slo('slow-availability', 'slow', 'slow', 'good', 'shop'),
        slo('down-availability', 'down', 'down', 'good', 'shop'),
        policy('slow', 'warn'),
        policy('down', 'deny'),
      ].join('---'),
    );
    sloguard = await SloguardProcess.start({ definitions: dir.path });
  });

  afterAll(async () => {
    await sloguard?.cleanup();
    silent?.closeAllConnections();
    await new Promise((resolve) => silent?.close(resolve));
    dir.cleanup();
  });

  it('reports stale no-data and the gate answers by policy without waiting for the engine', async () => {
    const slow = (await sloguard.json<SloView>('/api/v1/slos/slow-availability')).body;
    expect(slow).toMatchObject({ state: 'no-data', stale: true, sli: null });
    expect(slow.stale_reason).toBe('slow: no answer within 1000 ms');
    const down = (await sloguard.json<SloView>('/api/v1/slos/down-availability')).body;
    expect(down.stale_reason).toMatch(/^down: .*ECONNREFUSED/);
    const asked = Date.now();
    const [warned, denied] = await Promise.all([
      sloguard.json<{ decision: string; reason: string }>('/api/v1/gate?service=slow'),
      sloguard.json<{ decision: string; reason: string }>('/api/v1/gate?service=down'),
    ]);
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect(warned.status).toBe(200);
    expect(warned.body.decision).toBe('warn');
    expect(warned.body.reason).toContain('on_no_data: warn');
    expect(denied.status).toBe(423);
    expect(denied.body.decision).toBe('deny');
  });

  it('costs one timeout per tick however many queries wait for it', async () => {
    const slos = Array.from({ length: 20 }, (_, i) => slo(`hung-${i}`, 'hung', 'slow', 'good', `job-${i}`));
    const file = dir.file('hung.yaml', [dataSource('slow', `http://127.0.0.1:${port}`), ...slos].join('---'));
    const { definitions, errors } = loadDefinitions([file]);
    expect(errors).toEqual([]);
    const counts = new PrometheusCounts();
    const started = Date.now();
    await counts.refresh(definitions, Date.now());
    // 320 distinct queries, 8 at a time: waiting out each would take 40 s; the first timeout (1 s) fails the
    // rest. The bound leaves room for a busy CI machine.
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const definition of definitions)
      expect(counts.read(definition)).toEqual({ failure: 'slow: no answer within 1000 ms' });
  });
});

describe.runIf(installed)('an engine behind basic auth', () => {
  const dir = tempDir('sloguard-prom-auth-');
  let exporter: TestExporter;
  let prometheus: PrometheusServer;
  let sloguard: SloguardProcess;

  beforeAll(async () => {
    ensureBuilt();
    exporter = await TestExporter.start();
    prometheus = await PrometheusServer.start({
      targets: [{ job: 'shop', target: exporter.target }],
      basicAuth: { username: 'sloguard', password: TEST_PASSWORD, bcryptHash: TEST_PASSWORD_BCRYPT },
    });
    const basic = (env: string) => `, auth: { basic: { username: sloguard, passwordEnv: ${env} } }`;
    dir.file(
      'slos.yaml',
      [
        dataSource('secured', prometheus.url, basic('PROM_PASSWORD')),
        dataSource('wrong', prometheus.url, basic('WRONG_PASSWORD')),
        slo('secured-availability', 'secured', 'secured', 'good', 'shop'),
        slo('wrong-availability', 'wrong', 'wrong', 'good', 'shop'),
      ].join('---'),
    );
    // The secret reaches sloguard only through its environment, never the definition files.
    sloguard = await SloguardProcess.start({
      definitions: dir.path,
      env: { PROM_PASSWORD: TEST_PASSWORD, WRONG_PASSWORD: 'not-the-password' },
    });
  });

  afterAll(async () => {
    await sloguard?.cleanup();
    await prometheus?.stop();
    await exporter?.stop();
    dir.cleanup();
  });

  it('reads with the password from the environment; a wrong one makes the SLO stale with the 401', async () => {
    const secured = await waitFor(
      'secured-availability from the engine',
      async () => {
        const s = (await sloguard.json<SloView>('/api/v1/slos/secured-availability')).body;
        return s.valid > 0 && s;
      },
      { intervalMs: 250 },
    );
    expect(secured.sli).toBeCloseTo(GOOD_RATIO, 12);
    const wrong = (await sloguard.json<SloView>('/api/v1/slos/wrong-availability')).body;
    expect(wrong).toMatchObject({ stale: true, state: 'no-data' });
    expect(wrong.stale_reason).toBe('wrong: HTTP 401 without a JSON answer');
  });
});
