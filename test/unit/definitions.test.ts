import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Document, parseAllDocuments } from 'yaml';
import { loadDefinitions } from '../../src/definitions/load.js';
import { type DefinitionError, yamlDocuments } from '../../src/definitions/yamlSource.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
function folder() {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

const valid = `apiVersion: sloguard/v1
kind: SLO
metadata:
  name: profile-latency
  service: user-profile
spec:
  indicator:
    source: loadbalancer
    select: { route: "/profile/:id", method: get }
    good: { latency: "<= 500ms" }
  objective: 90
  window: 4w
`;

describe('native SLO definitions', () => {
  it('loads the example SLOs shipped in slo-definitions/', () => {
    const { definitions, errors } = loadDefinitions(['slo-definitions']);
    expect(errors).toEqual([]);
    expect(definitions.map((d) => d.name)).toEqual(
      expect.arrayContaining(['profile-availability', 'profile-latency', 'checkout-availability']),
    );
    const availability = definitions.find((d) => d.name === 'profile-availability')!;
    expect(availability.objective).toBeCloseTo(0.9995, 12);
    expect(availability.window).toBe('28d');
    expect(availability.indicator.good).toEqual({ kind: 'availability' });
  });

  it('reads a latency SLI, the method upper-cased, the window normalised', () => {
    const dir = folder();
    dir.file('a.yaml', valid);
    const [slo] = loadDefinitions([dir.path]).definitions;
    expect(slo!.indicator).toEqual({
      source: 'loadbalancer',
      select: { route: '/profile/:id', method: 'GET' },
      good: { kind: 'latency', thresholdUs: 500_000, text: '<= 500ms' },
    });
    expect(slo!.windowMs).toBe(28 * 86_400_000);
    expect(slo!.window).toBe('28d');
  });

  it.each([
    [
      'unknown field',
      valid.replace('  objective: 90', '  objectiv: 90'),
      11,
      3,
      'spec.objectiv',
      'unknown field "objectiv"',
    ],
    [
      'objective out of range',
      valid.replace('objective: 90', 'objective: 100'),
      11,
      14,
      'spec.objective',
      'must be < 100',
    ],
    ['bad name', valid.replace('profile-latency', 'Profile_Latency'), 4, 9, 'metadata.name', 'RFC-1123'],
    [
      'bad window',
      valid.replace('window: 4w', 'window: monthly'),
      12,
      11,
      'spec.window',
      'expected a duration',
    ],
    [
      'bad latency',
      valid.replace('<= 500ms', 'fast'),
      10,
      22,
      'spec.indicator.good.latency',
      'expected "<= 500ms"',
    ],
    [
      'bad source',
      valid.replace('source: loadbalancer', 'source: syslog'),
      8,
      13,
      'spec.indicator.source',
      '',
    ],
    [
      'missing service',
      valid.replace('  service: user-profile\n', ''),
      3,
      1,
      'metadata',
      'missing required field "service"',
    ],
    [
      'wrong apiVersion',
      valid.replace('sloguard/v1', 'sloguard/v2'),
      1,
      13,
      'apiVersion',
      'unsupported apiVersion',
    ],
  ])('%s is reported at file:line:column with the field', (_case, text, line, column, field, reason) => {
    const dir = folder();
    const file = dir.file('bad.yaml', text);
    const { definitions, errors } = loadDefinitions([file]);
    expect(definitions).toEqual([]);
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error!.location).toEqual({ file, line, column });
    expect(error!.field).toBe(field);
    expect(error!.reason).toContain(reason);
    expect(error!.message.startsWith(`${file}:${line}:${column}: ${field}: `)).toBe(true);
  });

  it('reports YAML syntax errors with their position', () => {
    const dir = folder();
    const file = dir.file('broken.yaml', 'apiVersion: sloguard/v1\nkind: [SLO\n');
    const { errors } = loadDefinitions([file]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.message).toMatch(new RegExp(`^${file.replaceAll('/', '\\/')}:\\d+:\\d+: `));
  });

  it('reads a file one document at a time, syntax errors worded as before and listed before the problems', () => {
    const broken = 'apiVersion: sloguard/v1\nkind: [SLO\n';
    const text = [valid, broken, valid.replace('objective: 90', 'objective: 150')].join('---\n');
    const read = [...yamlDocuments(text, 'mixed.yaml')];
    expect(read.map((each) => (Array.isArray(each) ? 'errors' : 'document'))).toEqual([
      'document',
      'errors',
      'document',
    ]);
    // The yaml library's own wording of a whole file's parse, with the line and a pointer to it.
    const whole = parseAllDocuments(text) as Document[];
    expect((read[1] as DefinitionError[]).map((error) => error.reason)).toEqual(
      whole[1]!.errors.map((error) => error.message),
    );
    expect((read[1] as DefinitionError[])[0]!.reason).toMatch(/ at line 16, column 1:\n/);
    const { errors, definitions } = loadDefinitions([folder().file('mixed.yaml', text)]);
    expect(definitions.map((d) => d.name)).toEqual(['profile-latency']);
    expect(errors.map((error) => error.location.line)).toEqual([...whole[1]!.errors.map(() => 16), 27]);
  });

  it('refuses custom tags rather than building objects', () => {
    const dir = folder();
    const file = dir.file('tags.yaml', valid.replace('objective: 90', 'objective: !!js/function "f() {}"'));
    const { errors } = loadDefinitions([file]);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('rejects a name defined twice, pointing at both places', () => {
    const dir = folder();
    dir.file('a.yaml', valid);
    const second = dir.file('b.yaml', `---\n${valid}`);
    const { definitions, errors } = loadDefinitions([dir.path]);
    expect(definitions).toHaveLength(1);
    expect(errors[0]!.message).toContain(
      `${second}:5:9: metadata.name: duplicate SLO name "profile-latency"`,
    );
    expect(errors[0]!.message).toContain('a.yaml:1');
  });

  it('reads a folder mounted from a Kubernetes ConfigMap once: its hidden ..data copies are skipped', () => {
    const dir = folder();
    // The kubelet's atomic writer: files in a timestamped folder, `..data` linking to it, top-level links.
    const stamped = join(dir.path, '..2026_12_03_14_00_00.123456789');
    mkdirSync(stamped);
    writeFileSync(join(stamped, 'profile.yaml'), valid);
    symlinkSync('..2026_12_03_14_00_00.123456789', join(dir.path, '..data'));
    symlinkSync('..data/profile.yaml', join(dir.path, 'profile.yaml'));
    dir.file('.profile.yaml.swp', 'not yaml: [');
    const { definitions, errors, files } = loadDefinitions([dir.path]);
    expect(errors).toEqual([]);
    expect(files).toEqual([join(dir.path, 'profile.yaml')]);
    expect(definitions.map((d) => d.name)).toEqual(['profile-latency']);
  });
});
