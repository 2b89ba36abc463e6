import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { delayToNextTick } from '../../src/schedule/scheduler.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({ SLOGUARD_CONFIG: undefined });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 9411,
      databasePath: './data/sloguard.db',
      definitionsPath: './slo-definitions',
      evaluationIntervalMs: 60_000,
      minuteRetentionDays: 1,
      hourRetentionDays: 400,
    });
  });

  it('reads sloguard.yaml and lets SLOGUARD_* variables win', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = dir.file(
      'sloguard.yaml',
      'port: 9500\nsources:\n  edge: { service: user-profile }\nservices:\n  user-profile: { routes: ["/profile/:id"] }\n',
    );
    const config = loadConfig({
      SLOGUARD_CONFIG: file,
      SLOGUARD_PORT: '9600',
      SLOGUARD_EVALUATION_INTERVAL: '5s',
    });
    expect(config.port).toBe(9600);
    expect(config.evaluationIntervalMs).toBe(5000);
    expect(config.sources.edge).toEqual({ service: 'user-profile' });
    expect(config.routeTemplates['user-profile']).toEqual(['/profile/:id']);
  });

  it.each([
    [{ SLOGUARD_PORT: 'http' }, 'SLOGUARD_PORT'],
    [{ SLOGUARD_PORT: '70000' }, 'SLOGUARD_PORT'],
    [{ SLOGUARD_EVALUATION_INTERVAL: '7s' }, 'SLOGUARD_EVALUATION_INTERVAL'],
    [{ SLOGUARD_MINUTE_RETENTION_DAYS: '0' }, 'SLOGUARD_MINUTE_RETENTION_DAYS'],
    [{ SLOGUARD_CONFIG: '/nonexistent/sloguard.yaml' }, 'SLOGUARD_CONFIG'],
  ])('names the bad field: %j', (env, field) => {
    expect(() => loadConfig(env)).toThrowError(ConfigError);
    expect(() => loadConfig(env)).toThrowError(new RegExp(`^${field}`));
  });

  it('names the bad field of the file', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = dir.file('sloguard.yaml', 'sources:\n  edge: { servic: x }\n');
    expect(() => loadConfig({ SLOGUARD_CONFIG: file })).toThrowError(/sources\.edge.*servic/);
  });

  // Ticks used to be node-cron schedules (evaluationCron); they are now timed by delayToNextTick.
  it('lands ticks on multiples of the interval', () => {
    const at = Date.UTC(2026, 10, 23, 10, 0, 12);
    expect(at + delayToNextTick(at, 1000)).toBe(at + 1000);
    expect(at + delayToNextTick(at, 60_000)).toBe(Date.UTC(2026, 10, 23, 10, 1, 0));
    expect(at + delayToNextTick(at, 300_000)).toBe(Date.UTC(2026, 10, 23, 10, 5, 0));
  });
});
