import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/definitions/load.js';
import { lintDefinitions } from '../../src/evaluate/definitionLints.js';
import { CLI, ensureBuilt, ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/** Loads one YAML text from a file of its own. */
function loadText(text: string) {
  const dir = tempDir('sloguard-validate-');
  try {
    return loadDefinitions([dir.file('slos.yaml', text)]);
  } finally {
    dir.cleanup();
  }
}

describe('sloguard validate', () => {
  it('reports a missing path as one clear line and still reads the others', () => {
    const loaded = loadDefinitions(['/nonexistent/slos.yaml', join(ROOT, 'slo-definitions')]);
    expect(loaded.errors.map((e) => e.message)).toEqual([
      '/nonexistent/slos.yaml:1:1: no such file or folder',
    ]);
    expect(loaded.definitions.length).toBeGreaterThan(0);

    ensureBuilt();
    const run = spawnSync(process.execPath, [CLI, 'validate', '/nonexistent/slos.yaml'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).not.toContain('ENOENT');
    expect(run.stderr.trim().split('\n')).toEqual([
      '/nonexistent/slos.yaml:1:1: no such file or folder',
      '1 problem in 0 files',
    ]);
  });

  it('reports every problem of a document, each at its own field', () => {
    const { errors } = loadText(`apiVersion: sloguard/v1
kind: SLO
metadata:
  name: Bad_Name
  service: web
spec:
  indicatr: { source: loadbalancer }
  objective: 120
  window: { calendar: decade }
  alerting: 3
`);
    // The typo explains the "missing indicator"; the window union's verdict is explained by its calendar.
    expect(errors.map((e) => [e.location.line, e.location.column, e.field])).toEqual([
      [4, 9, 'metadata.name'],
      [7, 3, 'spec.indicatr'],
      [8, 14, 'spec.objective'],
      [9, 23, 'spec.window.calendar'],
      [10, 3, 'spec.alerting'],
    ]);
  });

  it('points lint warnings at the field, not the document start', () => {
    const { definitions } = loadText(`apiVersion: sloguard/v1
kind: SLO
metadata: { name: loose, service: web }
spec:
  indicator: { source: loadbalancer }
  objective: 80
  window: 30m
`);
    const lints = lintDefinitions(definitions);
    const at = (field: string) => lints.filter((l) => l.field === field).map((l) => l.location.line);
    expect(at('objective')).toEqual([6, 6]);
    expect(at('window')).toEqual([7]);
  });
});
