import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/ingestCore.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function withFile(yaml: string): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir.file('sloguard.yaml', yaml);
}

/** The ConfigError a config makes, or undefined when it loads. */
function failure(env: NodeJS.ProcessEnv): ConfigError | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

describe('control.postgres settings', () => {
  it('are absent by default: one process', () => {
    expect(loadConfig({ SLOGUARD_CONFIG: undefined }).control).toBeUndefined();
  });

  it('come from the file with defaults, variables winning, the password from the environment only', () => {
    const file = withFile(
      'control:\n  postgres:\n    url: postgres://sloguard@db:5432/sloguard\n    poolSize: 4\n',
    );
    const config = loadConfig({
      SLOGUARD_CONFIG: file,
      SLOGUARD_CONTROL_POSTGRES_STATEMENT_TIMEOUT: '500ms',
      SLOGUARD_CONTROL_POSTGRES_PASSWORD: 's3cret',
    });
    expect(config.control?.postgres).toEqual({
      url: 'postgres://sloguard@db:5432/sloguard',
      password: 's3cret',
      poolSize: 4,
      statementTimeoutMs: 500,
      connectTimeoutMs: 2_000,
      leaseCheckMs: 1_000,
    });
  });

  it('refuse bad values naming the field', () => {
    const url = { SLOGUARD_CONFIG: undefined, SLOGUARD_CONTROL_POSTGRES_URL: 'postgres://db/sloguard' };
    expect(failure({ ...url, SLOGUARD_CONTROL_POSTGRES_POOL_SIZE: '0' })?.field).toBe(
      'control.postgres.poolSize',
    );
    expect(failure({ ...url, SLOGUARD_CONTROL_POSTGRES_STATEMENT_TIMEOUT: '2 seconds' })?.field).toBe(
      'control.postgres.statementTimeout',
    );
    expect(failure({ ...url, SLOGUARD_CONTROL_LEASE_CHECK_INTERVAL: '1h' })?.field).toBe(
      'control.postgres.leaseCheckInterval',
    );
    expect(failure({ SLOGUARD_CONFIG: undefined, SLOGUARD_CONTROL_POSTGRES_URL: 'mysql://db' })?.field).toBe(
      'control.postgres.url',
    );
    expect(failure({ SLOGUARD_CONFIG: withFile('control:\n  postgres:\n    pool: 3\n') })?.field).toMatch(
      /control\/postgres|control\.postgres/,
    );
  });

  it('never log the URL or password', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line) => void lines.push(line) });
    log.info({ control: { postgres: { url: 'postgres://u:pw@db/x', password: 'pw' } } }, 'settings');
    expect(lines.join('')).not.toContain('pw');
  });
});
