import { describe, expect, it } from 'vitest';
import { resolveScrapeTargets } from '../../src/config/scrape.js';
import { resolveCollectors } from '../../src/config/tail.js';

const fail = (field: string, message: string): never => {
  throw new Error(`${field}: ${message}`);
};

describe('collectors: and scrape: settings', () => {
  it('completes a collector with its defaults', () => {
    expect(
      resolveCollectors([{ path: '/var/log/nginx/*.log', format: 'nginx', source: 'edge' }], fail),
    ).toEqual([
      { path: '/var/log/nginx/*.log', format: 'nginx', source: 'edge', status: 'edge', pollIntervalMs: 250 },
    ]);
  });

  it.each([
    [{ path: '/a', format: 'apache', source: 's' }, 'collectors.0.format: unknown format "apache"'],
    [{ path: '/a', format: 'nginx', source: 's', pollInterval: 'often' }, 'collectors.0.pollInterval'],
  ])('refuses %j naming the field', (collector, message) => {
    expect(() => resolveCollectors([collector], fail)).toThrow(message);
  });

  it('completes a scrape target and refuses a bad duration', () => {
    expect(
      resolveScrapeTargets([{ url: 'http://127.0.0.1:8404/metrics', kind: 'haproxy', source: 'lb' }], fail),
    ).toEqual([
      {
        url: 'http://127.0.0.1:8404/metrics',
        kind: 'haproxy',
        source: 'lb',
        services: {},
        intervalMs: 15_000,
        maxGapMs: 600_000,
      },
    ]);
    expect(() =>
      resolveScrapeTargets([{ url: 'http://x/metrics', kind: 'envoy', source: 'lb', maxGap: 'soon' }], fail),
    ).toThrow('scrape.0.maxGap');
  });
});
