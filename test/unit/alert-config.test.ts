import { afterEach, describe, expect, it } from 'vitest';
import { targetsFor } from '../../src/alert/routing.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function configWith(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir();
  dirs.push(dir);
  return loadConfig({ SLOGUARD_CONFIG: dir.file('sloguard.yaml', yaml), ...env });
}

const SECRET = 'https://hooks.slack.com/services/T000/B000/fakesecret0000';

describe('notifications in sloguard.yaml', () => {
  it('reads targets, routes and intervals, with Alertmanager-like defaults', () => {
    const config = configWith(
      `
publicUrl: https://slo.example.com/
notifications:
  targets:
    ops: { kind: slack, url: "${SECRET}", digest: weekly, timeZone: Europe/Berlin }
    am: { kind: alertmanager, urlEnv: AM_URL }
  routes:
    - { service: checkout, targets: [ops] }
`,
      { AM_URL: 'http://alertmanager:9093' },
    );
    expect(config.publicUrl).toBe('https://slo.example.com');
    const { notifications } = config;
    expect(notifications).toMatchObject({
      repeatIntervalMs: 4 * 3_600_000,
      giveUpAfterMs: 24 * 3_600_000,
      retryBackoffMs: 5_000,
      maxRetryBackoffMs: 600_000,
      routes: [{ service: 'checkout', targets: ['ops'] }],
    });
    expect(notifications.targets.get('ops')).toEqual({
      name: 'ops',
      kind: 'slack',
      url: SECRET,
      digest: { cron: '0 9 * * 1', label: 'Weekly', timeZone: 'Europe/Berlin' },
    });
    expect(notifications.targets.get('am')).toEqual({
      name: 'am',
      kind: 'alertmanager',
      url: 'http://alertmanager:9093',
    });
  });

  it('defaults the public URL to the listen address and has no targets without the block', () => {
    const config = loadConfig({ SLOGUARD_CONFIG: undefined, SLOGUARD_PORT: '9999' });
    expect(config.publicUrl).toBe('http://127.0.0.1:9999');
    expect(config.notifications.targets.size).toBe(0);
  });

  it.each([
    ['an unknown kind', 'targets: { x: { kind: pager, url: "https://x" } }', 'notifications/targets/x/kind'],
    [
      'a route to no target',
      'targets: { x: { kind: slack, url: "https://x" } }\n  routes: [{ targets: [y] }]',
      'notifications.routes.0.targets',
    ],
    [
      'both url and urlEnv',
      'targets: { x: { kind: slack, url: "https://x", urlEnv: X } }',
      'notifications.targets.x',
    ],
    [
      'an empty urlEnv variable',
      'targets: { x: { kind: slack, urlEnv: NOT_SET } }',
      'notifications.targets.x.urlEnv',
    ],
    ['a bad repeat interval', 'repeatInterval: often', 'notifications.repeatInterval'],
    [
      'a bad digest schedule',
      'targets: { x: { kind: slack, url: "https://x", digest: hourly } }',
      'notifications.targets.x.digest',
    ],
  ])('refuses %s, naming the field', (_, block, field) => {
    let error: unknown;
    try {
      configWith(`notifications:\n  ${block}\n`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message.replaceAll('/', '.')).toContain(field.replaceAll('/', '.'));
  });

  it('never puts a webhook URL into an error message', () => {
    let message = '';
    try {
      configWith(`notifications:\n  targets: { ops: { kind: slack, url: "${SECRET}", urlEnv: X } }\n`);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('notifications.targets.ops: give exactly one of url, urlEnv');
    expect(message).not.toContain('secret');
  });
});

describe('targetsFor', () => {
  const targets = new Map(
    ['a', 'b', 'c'].map((name) => [name, { name, kind: 'slack' as const, url: 'https://x' }]),
  );
  const slo = { name: 'checkout-availability', service: 'checkout' };

  it('sends everything everywhere without routes', () => {
    expect(targetsFor({ targets, routes: [] }, slo)).toEqual(['a', 'b', 'c']);
  });

  it('unites the routes naming the SLO, its service, or neither', () => {
    const routes = [
      { slo: 'checkout-availability', targets: ['a'] },
      { service: 'checkout', targets: ['b', 'a'] },
      { service: 'search', targets: ['c'] },
      { slo: 'checkout-availability', service: 'search', targets: ['c'] },
    ];
    expect(targetsFor({ targets, routes }, slo)).toEqual(['a', 'b']);
    expect(targetsFor({ targets, routes: [...routes, { targets: ['c'] }] }, slo)).toEqual(['a', 'b', 'c']);
  });
});
