import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config, ConfigError } from '../../src/config/config.js';
import { Reloader } from '../../src/reload.js';
import { testApp } from '../helpers/app.js';

const POLICY = `apiVersion: sloguard/v1
kind: GatePolicy
metadata: { name: checkout-gate }
spec:
  service: checkout
  warnBelow: 30
`;

describe('Reloader (in process)', () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  let logged: string[];
  let applied: number;
  let nextConfig: () => Config;

  const reloader = () =>
    new Reloader({
      sloguard: ctx.sloguard,
      rereadConfig: () => nextConfig(),
      applied: async () => {
        applied += 1;
      },
      log: {
        info: (_details, message) => logged.push(`info ${message}`),
        warn: (details, message) => logged.push(`warn ${message} ${JSON.stringify(details)}`),
        error: (_details, message) => logged.push(`error ${message}`),
      },
      metrics: new Registry(),
    });

  beforeEach(async () => {
    ctx = await testApp();
    logged = [];
    applied = 0;
    nextConfig = () => ({ ...ctx.sloguard.config });
  });
  afterEach(() => ctx.close());

  it('swaps in gate policies with the SLOs', async () => {
    expect(ctx.sloguard.policies.environmentsOf('checkout')).toEqual([]);
    writeFileSync(
      join(ctx.sloguard.config.definitionsPath, 'policy.yaml'),
      `${POLICY}  environments: { production: { onNoData: deny } }\n`,
    );
    expect(await reloader().reload('http')).toMatchObject({ ok: true });
    expect(ctx.sloguard.policies.environmentsOf('checkout')).toEqual(['production']);
    expect(applied).toBe(1);
  });

  it('refuses valid definitions when sloguard.yaml is broken: the set is one', async () => {
    const before = ctx.sloguard.registry;
    writeFileSync(join(ctx.sloguard.config.definitionsPath, 'policy.yaml'), POLICY);
    nextConfig = () => {
      throw new ConfigError('sloguard.yaml: notifications.targets.chat', 'give exactly one of url, urlEnv');
    };
    const result = await reloader().reload('SIGHUP');
    expect(result).toEqual({
      ok: false,
      errors: ['sloguard.yaml: notifications.targets.chat: give exactly one of url, urlEnv'],
    });
    expect(ctx.sloguard.registry).toBe(before);
    expect(applied).toBe(0);
    expect(logged).toContain(
      'error reload refused: sloguard.yaml: notifications.targets.chat: give exactly one of url, urlEnv',
    );
  });

  it('applies reloadable settings and warns about those that need a restart', async () => {
    nextConfig = () => ({
      ...ctx.sloguard.config,
      port: ctx.sloguard.config.port + 1,
      routeTemplates: { shop: ['/items/:id'] },
    });
    const port = ctx.sloguard.config.port;
    expect(await reloader().reload('SIGHUP')).toMatchObject({ ok: true });
    expect(ctx.sloguard.config.routeTemplates).toEqual({ shop: ['/items/:id'] });
    expect(ctx.sloguard.routes.route('shop', '/items/abc')).toBe('/items/:id');
    expect(ctx.sloguard.config.port).toBe(port);
    expect(logged.find((line) => line.startsWith('warn'))).toContain('"settings":["port"]');
  });
});
