import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitions, MAX_DEFINITION_FILE_BYTES } from '../../src/definitions/load.js';
import { CLI, ensureBuilt, ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue #15 finding 13: a YAML alias bomb stopped `validate` and start without file:line and hid the other
 * files' reports; a FIFO named `*.yaml` hung `validate` for good. Each is run through the built CLI with a
 * deadline, so the old behaviour fails the test instead of hanging it.
 */
const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
for (const name of 'bcdefgh') {
  const previous = String.fromCharCode(name.charCodeAt(0) - 1);
  levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
}
/** 9^8 strings once expanded; the first alias is on line 3. */
const BOMB = `apiVersion: sloguard/v1\n${levels.join('\n')}\n`;
const BROKEN =
  'apiVersion: sloguard/v1\nkind: SLO\nmetadata:\n  name: broken\n  service: y\nspec:\n  objective: 120\n';

const dir = tempDir('sloguard-hostile-definitions-');
afterAll(() => dir.cleanup());

function validate(folder: string) {
  ensureBuilt();
  return spawnSync(process.execPath, [CLI, 'validate', folder], {
    encoding: 'utf8',
    cwd: ROOT,
    timeout: 20_000,
  });
}

describe('hostile definition files', () => {
  const folder = join(dir.path, 'definitions');
  execFileSync('mkdir', ['-p', folder]);
  copyFileSync(join(ROOT, 'slo-definitions/checkout.yaml'), join(folder, 'checkout.yaml'));
  dir.file('definitions/bomb.yaml', BOMB);
  dir.file('definitions/broken.yaml', BROKEN);

  it('reports an alias bomb at file:line and keeps the other files and their reports', () => {
    const loaded = loadDefinitions([folder]);
    const messages = loaded.errors.map((error) => error.message);
    expect(messages).toContainEqual(expect.stringMatching(/bomb\.yaml:3:\d+: .*alias/i));
    expect(messages).toContainEqual(expect.stringContaining('broken.yaml:'));
    expect(loaded.definitions.map((d) => d.name)).toContain('checkout-availability');
  });

  it('`validate` exits 1 naming every file with a problem', () => {
    const result = validate(folder);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bomb\.yaml:3:\d+: .*alias/i);
    expect(result.stderr).toContain('broken.yaml:');
  });

  it('skips a FIFO named *.yaml with a warning, never opening it', () => {
    const fifos = join(dir.path, 'fifos');
    execFileSync('mkdir', ['-p', fifos]);
    copyFileSync(join(ROOT, 'slo-definitions/checkout.yaml'), join(fifos, 'checkout.yaml'));
    execFileSync('mkfifo', [join(fifos, 'pipe.yaml')]);
    const result = validate(fifos);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(
      `warning: ${join(fifos, 'pipe.yaml')}:1:1: not a regular file: skipped, never opened`,
    );
    expect(result.stdout).toMatch(/^ok: 2 SLOs in 1 files/);
  });

  it('refuses a file larger than MAX_DEFINITION_FILE_BYTES at its path, unread, and reads the others', () => {
    const big = join(dir.path, 'big');
    execFileSync('mkdir', ['-p', big]);
    copyFileSync(join(ROOT, 'slo-definitions/checkout.yaml'), join(big, 'checkout.yaml'));
    // Sparse: the size is there, the disk blocks are not, and a read of it would be 32 MiB of NUL bytes.
    dir.file('big/dump.yaml', '');
    truncateSync(join(big, 'dump.yaml'), 2 * MAX_DEFINITION_FILE_BYTES);
    const result = validate(big);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `${join(big, 'dump.yaml')}:1:1: ${2 * MAX_DEFINITION_FILE_BYTES} bytes, larger than the limit of ${MAX_DEFINITION_FILE_BYTES}: not read`,
    );
    expect(loadDefinitions([big]).definitions.map((d) => d.name)).toEqual(
      loadDefinitions([join(ROOT, 'slo-definitions/checkout.yaml')]).definitions.map((d) => d.name),
    );
  });
});
