import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxLine, testApp } from '../helpers/app.js';
import { PROMETHEUS_BINARY, PrometheusServer } from '../helpers/prometheus.js';
import { ROOT } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

const FOLDER = join(ROOT, 'dashboards/grafana');
/** Grafana's reference to the dashboard's datasource variable, written literally in the JSON. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, meant literally.
const DATASOURCE_VARIABLE = '${datasource}';

interface Target {
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: string; uid: string };
  targets: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
}

const dashboards = readdirSync(FOLDER)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(FOLDER, file), 'utf8')) as Dashboard }));

describe('Grafana dashboards (dashboards/grafana)', () => {
  it('are two importable dashboards: unique uids and panel ids, panels on the 24-column grid, one datasource variable', () => {
    expect(dashboards.map((d) => d.file).sort()).toEqual(['sloguard-overview.json', 'sloguard-slo.json']);
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(2);
    for (const { file, dashboard } of dashboards) {
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
      for (const panel of dashboard.panels) {
        expect(panel.gridPos.x + panel.gridPos.w, `${file} ${panel.title}`).toBeLessThanOrEqual(24);
        expect(panel.datasource.uid, `${file} ${panel.title}`).toBe(DATASOURCE_VARIABLE);
        expect(panel.targets.length, `${file} ${panel.title}`).toBeGreaterThan(0);
      }
      const datasource = dashboard.templating.list.find((v) => v.name === 'datasource');
      expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    }
  });
});

// Prometheus is a Debian package CI installs (.ci/run); a machine without it skips loudly, CI never does.
const hasPrometheus = readdirSync('/usr/bin').includes('prometheus') || Boolean(process.env.CI);
if (!hasPrometheus) console.warn(`\n*** SKIPPING Grafana query test: ${PROMETHEUS_BINARY} is missing ***\n`);

describe.skipIf(!hasPrometheus)(
  'Grafana dashboard queries against a real Prometheus scraping sloguard',
  () => {
    let ctx: Awaited<ReturnType<typeof testApp>>;
    let prometheus: PrometheusServer;

    beforeAll(async () => {
      ctx = await testApp();
      await ctx.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (ctx.app.server.address() as AddressInfo).port;
      const nowMs = Date.now() - 1_000;
      // Two hours of profile traffic failing one request in five for the last quarter hour: a page-tier burn.
      // A request every 3 s: 2,400, enough to judge a 99.95% budget (it needs 2,000 to allow one bad event).
      const lines: string[] = [];
      for (let second = 7200; second > 0; second -= 3) {
        const failed = second < 900 && second % 5 === 0;
        lines.push(nginxLine(nowMs - second * 1000, 'GET', `/profile/${second}`, failed ? 503 : 200, 0.1));
      }
      await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/lb?format=nginx&service=user-profile',
        payload: lines.join('\n'),
        headers: { 'content-type': 'text/plain' },
      });
      ctx.sloguard.pipeline.flush();
      ctx.sloguard.evaluator.evaluateAll();
      await ctx.app.inject({
        method: 'GET',
        url: '/api/v1/gate?service=user-profile&environment=production',
      });
      prometheus = await PrometheusServer.start({
        targets: [{ job: 'sloguard', target: `127.0.0.1:${port}` }],
      });
      // rate() needs two scrapes; by then every gauge is there too.
      await waitFor(
        'two scrapes of sloguard',
        async () => (await prometheus.query('rate(sloguard_ingest_events_total[1m])')).length > 0,
      );
    });
    afterAll(async () => {
      await prometheus?.stop();
      await ctx?.close();
    });

    /** Grafana's variables as a user would have them: all services, one SLO that has data. */
    const substitute = (expr: string) =>
      expr
        .replaceAll('$service', '.*')
        .replaceAll('$slo', 'profile-availability')
        .replaceAll('$__rate_interval', '1m');

    it('every panel query parses and returns data, and every variable lists values', async () => {
      for (const { file, dashboard } of dashboards) {
        for (const panel of dashboard.panels) {
          for (const target of panel.targets) {
            const result = await prometheus.query(substitute(target.expr));
            expect(result.length, `${file} "${panel.title}": ${target.expr}`).toBeGreaterThan(0);
          }
        }
        for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
          const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
          const match = /^label_values\((\w+), (\w+)\)$/.exec(query);
          expect(match, query).not.toBeNull();
          const response = await fetch(
            `${prometheus.url}/api/v1/label/${match![2]}/values?${new URLSearchParams({ 'match[]': match![1]! })}`,
          );
          const values = ((await response.json()) as { data: string[] }).data;
          expect(values.length, `${file} variable ${variable.name}`).toBeGreaterThan(0);
        }
      }
    });

    it('shows the burning SLO as the overview would: paging, budget spent, gate frozen', async () => {
      const [alert] = await prometheus.query('sloguard_slo_alert_state{slo="profile-availability"}');
      expect(alert!.value[1]).toBe('2');
      const [budget] = await prometheus.query(
        'sloguard_slo_error_budget_remaining_ratio{slo="profile-availability"}',
      );
      expect(Number(budget!.value[1])).toBeLessThan(0);
      const [frozen] = await prometheus.query('sloguard_slo_gate_frozen{slo="profile-availability"}');
      expect(frozen!.value[1]).toBe('1');
    });
  },
);
