import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { loadDefinitions } from '../../src/definitions/load.js';
import { tracingEndpoint } from '../../src/telemetry/tracing.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function load(indicator: string) {
  const dir = tempDir();
  dirs.push(dir);
  const file = dir.file(
    'slo.yaml',
    `apiVersion: sloguard/v1
kind: SLO
metadata: { name: orders, service: orders }
spec:
  indicator: ${indicator}
  objective: 99
  window: 28d
`,
  );
  return loadDefinitions([file]);
}

describe('select.spanKinds', () => {
  it('is kept for trace data; omitted, the evaluator counts server spans only', () => {
    expect(
      load('{ source: traces, select: { spanKinds: [client, consumer] } }').definitions[0]?.indicator.select,
    ).toEqual({ spanKinds: ['client', 'consumer'] });
    expect(load('{ source: traces }').definitions[0]?.indicator.select).toEqual({});
  });

  it.each([
    ['{ source: loadbalancer, select: { spanKinds: [server] } }', 'applies only to source: traces'],
    ['{ source: traces, select: { spanKinds: [] } }', ''],
    ['{ source: traces, select: { spanKinds: [internal] } }', ''],
  ])('refuses %s', (indicator, reason) => {
    const { errors } = load(indicator);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain('spec.indicator.select.spanKinds');
    expect(errors[0]?.message).toContain(reason);
  });
});

describe('SLOGUARD_TRACING_URL', () => {
  it('is off unless set, and takes an http(s) URL or self', () => {
    expect(loadConfig({}).tracingUrl).toBeUndefined();
    expect(loadConfig({ SLOGUARD_TRACING_URL: 'http://zipkin:9411/api/v2/spans' }).tracingUrl).toBe(
      'http://zipkin:9411/api/v2/spans',
    );
    expect(loadConfig({ SLOGUARD_TRACING_URL: 'self', SLOGUARD_TRACING_TOKEN: 't' })).toMatchObject({
      tracingUrl: 'self',
      tracingToken: 't',
    });
    expect(() => loadConfig({ SLOGUARD_TRACING_URL: 'zipkin:9411' })).toThrow(ConfigError);
  });

  it('self means this service’s own collector', () => {
    expect(tracingEndpoint('self', 'http://127.0.0.1:9411')).toBe('http://127.0.0.1:9411/api/v2/spans');
    expect(tracingEndpoint('http://zipkin:9411/api/v2/spans', 'http://127.0.0.1:9411')).toBe(
      'http://zipkin:9411/api/v2/spans',
    );
  });
});
