import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { nginxLine, testApp } from '../helpers/app.js';
import { freePort } from '../helpers/ports.js';

interface DataPoint {
  attributes: Array<{ key: string; value: { stringValue: string } }>;
  asDouble: number;
}
interface ExportRequest {
  resourceMetrics: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue: string } }> };
    scopeMetrics: Array<{
      metrics: Array<{ name: string; unit: string; gauge: { dataPoints: DataPoint[] } }>;
    }>;
  }>;
}

let collector: Server;
let received: Array<{ path: string; contentType: string; body: ExportRequest }>;
let url: string;

beforeEach(async () => {
  received = [];
  // Stands in for an OpenTelemetry Collector's OTLP/HTTP receiver: keeps what the real exporter sends.
  collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'] ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest,
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => collector.listen(port, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${port}/v1/metrics`;
});
afterEach(async () => {
  await new Promise((resolve) => collector.close(resolve));
});

describe('OpenTelemetry metrics', () => {
  it('are off unless SLOGUARD_OTEL_METRICS_URL is set, and refuse a URL that is not one', () => {
    expect(loadConfig({}).otelMetricsUrl).toBeUndefined();
    expect(() => loadConfig({ SLOGUARD_OTEL_METRICS_URL: 'collector:4318' })).toThrow(ConfigError);
  });

  it('push the SLO figures over OTLP/HTTP with SLO and service attributes', async () => {
    const ctx = await testApp({ otelMetricsUrl: url });
    const t = Date.now() - 1_000;
    const lines = [
      ...Array.from({ length: 9 }, (_, i) => nginxLine(t, 'GET', `/profile/${i}`, 200, 0.1)),
      nginxLine(t, 'GET', '/profile/9', 500, 0.1),
    ].join('\n');
    await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&service=user-profile',
      payload: lines,
    });
    ctx.sloguard.evaluator.evaluateAll();
    // Closing the app shuts the meter provider down, which exports what it observes at that moment.
    await ctx.app.close();
    await ctx.close();
    expect(received.length).toBeGreaterThan(0);
    const last = received.at(-1)!;
    expect(last.path).toBe('/v1/metrics');
    expect(last.contentType).toContain('application/json');
    const [resource] = last.body.resourceMetrics;
    expect(resource!.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'sloguard' },
    });
    const metrics = new Map(resource!.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.name, m]));
    expect([...metrics.keys()].sort()).toEqual([
      'sloguard.slo.burn_rate',
      'sloguard.slo.error_budget.remaining',
      'sloguard.slo.objective',
      'sloguard.slo.sli',
    ]);
    const point = (name: string, slo: string) =>
      metrics
        .get(name)!
        .gauge.dataPoints.find((p) =>
          p.attributes.some((a) => a.key === 'slo.name' && a.value.stringValue === slo),
        );
    const sli = point('sloguard.slo.sli', 'profile-availability');
    expect(sli!.asDouble).toBeCloseTo(0.9, 12);
    expect(sli!.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'user-profile' } });
    expect(point('sloguard.slo.objective', 'profile-availability')!.asDouble).toBe(0.9995);
    expect(metrics.get('sloguard.slo.sli')!.unit).toBe('1');
  });
});
