import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/definitions/load.js';
import { lintDefinitions } from '../../src/evaluate/definitionLints.js';
import { tempFolders } from '../helpers/tmp.js';

const folders = tempFolders();
afterEach(() => folders.cleanup());
const write = folders.write;

const slo = (name: string, spec: string) => `apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${name}, service: play-store }
spec:
  indicator: { source: loadbalancer, select: { route: /${name} } }
${spec}`;

describe('native windows, budgeting and composites', () => {
  it('reads a calendar month in a zone, timeslices and ratio-timeslices', () => {
    const path = write({
      'a.yaml': slo(
        'home',
        `  objective: 99.9
  window: { calendar: month, timeZone: Europe/Berlin }
  budgeting: { timeslices: { slice: 5m, target: 95 } }
`,
      ),
      'b.yaml': slo(
        'search',
        '  objective: 99\n  window: 7d\n  budgeting: { ratioTimeslices: { slice: 1m } }\n',
      ),
    });
    const { definitions, errors } = loadDefinitions([path]);
    expect(errors).toEqual([]);
    expect(definitions.map((d) => [d.window, d.windowSpec.kind, d.budgeting, d.timeslices])).toEqual([
      ['1 month (Europe/Berlin)', 'calendar', 'timeslices', { sliceMs: 300_000, target: 0.95 }],
      ['7d', 'rolling', 'ratio-timeslices', { sliceMs: 60_000 }],
    ]);
  });

  it('rejects an unknown time zone and a slice that is not whole minutes, at their lines', () => {
    const path = write({
      'a.yaml': slo('home', '  objective: 99\n  window: { calendar: month, timeZone: Europe/Berlln }\n'),
      'b.yaml': slo(
        'search',
        '  objective: 99\n  window: 7d\n  budgeting: { ratioTimeslices: { slice: 90s } }\n',
      ),
    });
    const { errors } = loadDefinitions([path]);
    expect(errors.map((e) => `${e.location.line} ${e.field}`)).toEqual([
      '7 spec.window.timeZone',
      '8 spec.budgeting.ratioTimeslices.slice',
    ]);
  });

  it('resolves a CompositeSLO against SLOs in other files, weights normalised', () => {
    const path = write({
      'parts.yaml': `${slo('home', '  objective: 99.9\n  window: 28d\n')}---\n${slo('search', '  objective: 99.9\n  window: 28d\n')}`,
      'browse.yaml': `apiVersion: sloguard/v1
kind: CompositeSLO
metadata: { name: store-browse, service: play-store }
spec:
  objective: 99.9
  window: 28d
  components:
    - { slo: home, weight: 1 }
    - { slo: search, weight: 3 }
`,
    });
    const { definitions, errors } = loadDefinitions([path]);
    expect(errors).toEqual([]);
    const browse = definitions.find((d) => d.name === 'store-browse')!;
    expect(browse.composite!.components.map((c) => [c.name, c.indicator.select.route, c.weight])).toEqual([
      ['home', '/home', 0.25],
      ['search', '/search', 0.75],
    ]);
  });

  it('reports a composite component naming no SLO', () => {
    const path = write({
      'browse.yaml': `apiVersion: sloguard/v1
kind: CompositeSLO
metadata: { name: store-browse, service: play-store }
spec:
  objective: 99.9
  window: 28d
  components:
    - { slo: nowhere }
`,
    });
    const [error] = loadDefinitions([path]).errors;
    expect(`${error!.location.line} ${error!.field} ${error!.reason}`).toBe(
      '8 spec.components.0.slo no SLO named "nowhere"',
    );
  });
});

describe('lints', () => {
  it('flags a tier that can never fire, a slice longer than the window, and a window of minutes', () => {
    const path = write({
      'a.yaml': slo('loose', '  objective: 80\n  window: 28d\n'),
      'b.yaml': slo(
        'sliced',
        '  objective: 99\n  window: 2h\n  budgeting: { timeslices: { slice: 3h, target: 90 } }\n',
      ),
      'c.yaml': slo('tiny', '  objective: 99\n  window: 1m\n'),
      'd.yaml': slo('fine', '  objective: 99.9\n  window: 28d\n'),
    });
    const lints = lintDefinitions(loadDefinitions([path]).definitions).map((l) => l.reason);
    // 14 × 20% and 7 × 20% exceed 100%; 2 × 20% and 1 × 20% do not.
    expect(lints.filter((l) => l.startsWith('loose:'))).toEqual([
      expect.stringContaining('page tier over 1h can never fire'),
      expect.stringContaining('page tier over 6h can never fire'),
    ]);
    expect(lints.filter((l) => l.startsWith('sliced:'))).toEqual([
      'sliced: a time slice of 3h is longer than the 2h window',
    ]);
    expect(lints.filter((l) => l.startsWith('tiny:'))).toEqual([
      expect.stringContaining('tiny: a window of 1m is shorter than an hour'),
    ]);
    expect(lints.filter((l) => l.startsWith('fine:'))).toEqual([]);
  });
});

describe('sloguard validate on the upstream fixtures', () => {
  const fixtures = join(import.meta.dirname, '../fixtures/slo-specs');
  const validate = (...paths: string[]) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'validate', ...paths.map((p) => join(fixtures, p))],
      {
        encoding: 'utf8',
      },
    );

  it('exits 1 naming file:line:column and field for an invalid file', () => {
    const run = validate('OpenSLO__OpenSLO/examples/budgeting-method/timeslices-slo.yaml');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('timeslices-slo.yaml:35:11: spec.objectives[0].op: property is forbidden');
    expect(run.stderr).toContain('warning: ');
    expect(run.stderr).toContain('timeslices-slo.yaml:27:17: spec.timeWindow[0].duration');
  });

  it('exits 0 for a valid file, with a warning that its metrics are not sloguard data', () => {
    const run = validate('OpenSLO__go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo.yaml');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('ok: 0 SLOs in 1 files');
    expect(run.stderr).toContain('metricSource type Prometheus');
  });
});
