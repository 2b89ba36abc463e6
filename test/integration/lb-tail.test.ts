import { renameSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAPROXY_BINARY, HaproxyServer } from '../helpers/haproxy.js';
import { NGINX_BINARY, NginxServer, requireBinary } from '../helpers/nginx.js';
import { SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { type PlannedRequest, sendPlanned, Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Real nginx and HAProxy (Debian packages) in front of an upstream answering chosen statuses and delays;
 * a real `sloguard serve` tails both access logs and scrapes HAProxy's Prometheus exporter. Along the way:
 * nginx's log is rotated by rename + reopen while requests flow, HAProxy's by copytruncate, and sloguard is
 * killed with SIGKILL while tailing and restarted. Every SLI must equal what the test computed from the
 * requests it sent: no line lost, none counted twice.
 */
// Far apart, so a loaded CI machine cannot push a fast request over the threshold.
const THRESHOLD_MS = 1000;

function slo(name: string, service: string, good: string): string {
  return `apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${name}, service: ${service} }
spec:
  indicator: { source: loadbalancer, good: ${good} }
  objective: 99
  window: 7d
`;
}

/** A deterministic mix: statuses 200/404/500/503, some slower than the latency threshold. */
function plan(count: number, offset: number): PlannedRequest[] {
  const statuses = [200, 200, 404, 500, 200, 503, 201];
  return Array.from({ length: count }, (_, i) => {
    const n = i + offset;
    return {
      method: n % 5 === 0 ? 'POST' : 'GET',
      path: `/profile/${n}`,
      status: statuses[n % statuses.length]!,
      delayMs: n % 4 === 0 ? THRESHOLD_MS + 300 : 0,
    };
  });
}

interface Expected {
  valid: number;
  available: number;
  fast: number;
}

function tally(into: Expected, requests: readonly PlannedRequest[]): void {
  for (const request of requests) {
    into.valid += 1;
    if (request.status < 500) into.available += 1;
    if (request.delayMs < THRESHOLD_MS) into.fast += 1;
  }
}

describe.runIf(requireBinary(NGINX_BINARY, 'nginx') && requireBinary(HAPROXY_BINARY, 'haproxy'))(
  'tailing real nginx and HAProxy logs, and scraping HAProxy metrics',
  () => {
    let upstream: Upstream;
    let nginx: NginxServer;
    let haproxy: HaproxyServer;
    let sloguard: SloguardProcess;
    const dir = tempDir('sloguard-lb-tail-');
    const viaNginx: Expected = { valid: 0, available: 0, fast: 0 };
    const viaHaproxy: Expected = { valid: 0, available: 0, fast: 0 };

    beforeAll(async () => {
      upstream = await Upstream.start();
      nginx = await NginxServer.start({ upstreamPort: upstream.port });
      haproxy = await HaproxyServer.start({ upstreamPort: upstream.port });
      const definitions = dir.file(
        'slos.yaml',
        [
          slo('nginx-availability', 'nginx-app', '{ status: "< 500" }'),
          slo('nginx-latency', 'nginx-app', `{ latency: "<= ${THRESHOLD_MS}ms" }`),
          slo('haproxy-availability', 'haproxy-app', '{ status: "< 500" }'),
          slo('haproxy-latency', 'haproxy-app', `{ latency: "<= ${THRESHOLD_MS}ms" }`),
          slo('haproxy-scraped-availability', 'haproxy-scraped', '{ status: "< 500" }'),
        ].join('---\n'),
      );
      const config = dir.file(
        'sloguard.yaml',
        `collectors:
  - { path: "${nginx.accessLogPath}", format: nginx, source: edge-nginx, service: nginx-app, pollInterval: 100ms }
  - { path: "${haproxy.logPath}", format: haproxy, source: edge-haproxy, service: haproxy-app, pollInterval: 100ms }
scrape:
  - { url: "${haproxy.metricsUrl}", kind: haproxy, source: haproxy-metrics, services: { be_app: haproxy-scraped }, interval: 1s }
`,
      );
      sloguard = await SloguardProcess.start({
        definitions,
        env: { SLOGUARD_CONFIG: config, SLOGUARD_LOG_LEVEL: 'info' },
      });
      // Requests served before the exporter's first scrape are part of its baseline, not of any minute.
      await waitFor('the first scrape of HAProxy', () =>
        sloguard.logs.join('').includes('first scrape of this target'),
      );
    });

    afterAll(async () => {
      await sloguard?.cleanup();
      await haproxy?.stop();
      await nginx?.stop();
      await upstream?.stop();
      dir.cleanup();
    });

    async function status(name: string): Promise<{ good: number; valid: number; evaluated_at: string }> {
      const { body } = await sloguard.json<{ good: number; valid: number; evaluated_at: string }>(
        `/api/v1/slos/${name}`,
      );
      return body;
    }

    /** Waits until the SLO shows exactly these counts, then checks they stay so over two more evaluations. */
    async function expectCounts(name: string, good: number, valid: number): Promise<void> {
      const seen = await waitFor(
        `${name} to show good=${good} valid=${valid}`,
        async () => {
          const current = await status(name);
          if (current.good === good && current.valid === valid) return current;
          throw new Error(`now good=${current.good} valid=${current.valid}`);
        },
        { intervalMs: 200 },
      );
      await waitFor(`${name} to be evaluated twice more`, async () => {
        const later = await status(name);
        return Date.parse(later.evaluated_at) >= Date.parse(seen.evaluated_at) + 2000 ? later : undefined;
      });
      expect(await status(name)).toMatchObject({ good, valid });
    }

    async function expectAll(): Promise<void> {
      await expectCounts('nginx-availability', viaNginx.available, viaNginx.valid);
      await expectCounts('nginx-latency', viaNginx.fast, viaNginx.valid);
      await expectCounts('haproxy-availability', viaHaproxy.available, viaHaproxy.valid);
      await expectCounts('haproxy-latency', viaHaproxy.fast, viaHaproxy.valid);
      await expectCounts('haproxy-scraped-availability', viaHaproxy.available, viaHaproxy.valid);
    }

    async function send(server: 'nginx' | 'haproxy', requests: PlannedRequest[]): Promise<void> {
      const statuses = await sendPlanned(server === 'nginx' ? nginx.url : haproxy.url, requests, 8);
      expect(statuses).toEqual(requests.map((r) => r.status));
      tally(server === 'nginx' ? viaNginx : viaHaproxy, requests);
    }

    it('counts every request of both logs and of the HAProxy exporter', async () => {
      await Promise.all([send('nginx', plan(70, 0)), send('haproxy', plan(70, 0))]);
      await expectAll();
    }, 120_000);

    it('survives nginx rename rotation mid-stream and HAProxy copytruncate', async () => {
      const flowing = send('nginx', plan(80, 100));
      await waitFor('some of the traffic to be logged', () => nginx.accessLog().split('\n').length > 20);
      renameSync(nginx.accessLogPath, `${nginx.accessLogPath}.1`);
      // Lines still land in the renamed file until nginx reopens: the tailer keeps reading it by inode.
      await send('nginx', plan(10, 200));
      await nginx.reopenLogs();
      await flowing;
      await send('nginx', plan(30, 300));
      // copytruncate loses what is written between the copy and the truncation (logrotate says so): rotate
      // once sloguard has read everything, as a rotation between two writes does.
      await expectCounts('haproxy-availability', viaHaproxy.available, viaHaproxy.valid);
      haproxy.copyTruncate();
      await send('haproxy', plan(50, 100));
      await expectAll();
    }, 180_000);

    it('loses no line and counts none twice across kill -9 while tailing', async () => {
      const flowing = Promise.all([send('nginx', plan(120, 400)), send('haproxy', plan(120, 400))]);
      await waitFor('traffic to be flowing', () => haproxy.accessLog().split('\n').length > 40);
      await sloguard.stop('SIGKILL');
      await flowing;
      // Written while sloguard is down.
      await Promise.all([send('nginx', plan(25, 600)), send('haproxy', plan(25, 600))]);
      await sloguard.restart();
      await expectAll();
    }, 180_000);
  },
);
