import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionFileCache } from '../../src/definitions/fileCache.js';
import { loadDefinitions } from '../../src/definitions/load.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

const slo = (name: string, objective = 99) => `apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${name}, service: shop }
spec:
  indicator: { source: loadbalancer, good: { status: "< 500" } }
  objective: ${objective}
  window: 28d
`;

/** A folder of definition files, loaded through one cache as the service's reloads are. */
function definitionsFolder(files: Record<string, string>) {
  const dir = tempDir();
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir.path, name), text);
  const cache = new DefinitionFileCache();
  const load = () => loadDefinitions([dir.path], cache);
  return { dir: dir.path, cache, load };
}

describe('the definition file cache (issue #23: a reload parses only what changed)', () => {
  it('parses a changed file again and keeps the read of an unchanged one', () => {
    const { dir, cache, load } = definitionsFolder({ 'a.yaml': slo('a'), 'b.yaml': slo('b') });
    const first = load();
    expect(cache.parsed).toEqual([join(dir, 'a.yaml'), join(dir, 'b.yaml')]);
    writeFileSync(join(dir, 'b.yaml'), slo('b', 99.9));
    const second = load();
    expect(cache.parsed).toEqual([join(dir, 'b.yaml')]);
    expect(second.definitions.map((d) => [d.name, d.objectivePercent])).toEqual([
      ['a', 99],
      ['b', 99.9],
    ]);
    // The unchanged file's SLO is the same read, not a new parse of it.
    expect(second.definitions[0]).toBe(first.definitions[0]);
    expect(second.errors).toEqual([]);
  });

  it('reads the same set as without a cache, in file order', () => {
    const { dir, load } = definitionsFolder({ 'a.yaml': `${slo('a')}---\n${slo('c')}`, 'b.yaml': slo('b') });
    load();
    writeFileSync(join(dir, 'b.yaml'), slo('b', 95));
    const cached = load().definitions;
    expect(cached).toEqual(loadDefinitions([dir]).definitions);
    expect(cached.map((d) => d.name)).toEqual(['a', 'c', 'b']);
  });

  it('drops a deleted file: its SLOs go, and it is not kept', () => {
    const { dir, cache, load } = definitionsFolder({ 'a.yaml': slo('a'), 'b.yaml': slo('b') });
    load();
    rmSync(join(dir, 'b.yaml'));
    expect(load().definitions.map((d) => d.name)).toEqual(['a']);
    expect(cache.parsed).toEqual([]);
    // Written back with the same bytes, it is parsed anew: the cache no longer held it.
    writeFileSync(join(dir, 'b.yaml'), slo('b'));
    expect(load().definitions.map((d) => d.name)).toEqual(['a', 'b']);
    expect(cache.parsed).toEqual([join(dir, 'b.yaml')]);
  });

  it('names the path a file is at now in its errors, when the same bytes moved', () => {
    const broken = slo('a').replace('objective: 99', 'objective: 120');
    const { dir, cache, load } = definitionsFolder({ 'a.yaml': broken });
    expect(load().errors.map((e) => e.location.file)).toEqual([join(dir, 'a.yaml')]);
    renameSync(join(dir, 'a.yaml'), join(dir, 'moved.yaml'));
    const errors = load().errors;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => e.location.file)).toEqual(errors.map(() => join(dir, 'moved.yaml')));
    expect(errors[0]!.message).toContain(`${join(dir, 'moved.yaml')}:`);
    expect(cache.parsed).toEqual([join(dir, 'moved.yaml')]);
  });

  it('keeps a file with syntax errors failing the same way, errors in the same order', () => {
    const broken = `${slo('a')}---\nkey: [unclosed\n`;
    const { load } = definitionsFolder({ 'a.yaml': broken });
    const first = load().errors.map((e) => e.message);
    expect(first.length).toBeGreaterThan(0);
    expect(load().errors.map((e) => e.message)).toEqual(first);
  });

  it('reads a file with OpenSLO documents again every time, their references resolved across files', () => {
    const openslo = `apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout }
spec:
  service: shop
  indicatorRef: missing-sli
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
`;
    const { dir, cache, load } = definitionsFolder({ 'a.yaml': slo('a'), 'o.yaml': openslo });
    const first = load().errors.map((e) => e.message);
    expect(first.some((m) => m.includes('missing-sli'))).toBe(true);
    expect(load().errors.map((e) => e.message)).toEqual(first);
    expect(cache.parsed).toEqual([join(dir, 'o.yaml')]);
  });
});
