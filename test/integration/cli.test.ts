import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

function sloguard(...args: string[]) {
  ensureBuilt();
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
}

describe('sloguard CLI', () => {
  it('validate exits 0 for the example SLOs', () => {
    const result = sloguard('validate', 'slo-definitions');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ok: \d+ SLOs in \d+ files/);
  });

  it('validate exits 1 with file:line:column for a malformed SLO', () => {
    const file = dir.file(
      'bad.yaml',
      'apiVersion: sloguard/v1\nkind: SLO\nmetadata:\n  name: x\n  service: y\nspec:\n  indicator: { source: loadbalancer }\n  objective: 120\n  window: 28d\n',
    );
    const result = sloguard('validate', file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${file}:8:14: spec.objective: must be < 100`);
  });

  it('exits 64 on bad usage', () => {
    expect(sloguard('gate').status).toBe(64);
    expect(sloguard('gate', '--service', 'x', '--change-type', 'yolo').status).toBe(64);
    expect(sloguard('frobnicate').status).toBe(64);
    expect(sloguard('--help').status).toBe(0);
  });

  it('refuses to serve invalid definitions, naming the problem', () => {
    const bad = tempDir();
    bad.file('broken.yaml', 'apiVersion: sloguard/v1\nkind: SLO\n');
    const result = spawnSync(process.execPath, [CLI, 'serve'], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        SLOGUARD_DEFINITIONS: bad.path,
        SLOGUARD_PORT: '0',
        SLOGUARD_DATABASE: `${bad.path}/db`,
      },
      timeout: 20_000,
    });
    bad.cleanup();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/broken\.yaml:1:1: .*missing required field "metadata"/);
  });
});
