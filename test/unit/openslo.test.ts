import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadDefinitions } from '../../src/definitions/load.js';
import { burnRateTiers } from '../../src/evaluate/math.js';
import { tempFolders } from '../helpers/tmp.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/slo-specs');
const at = (path: string) => join(FIXTURES, path);

/** `line field` of each problem, so a table can say what the reference validator's rules say. */
function problems(paths: string[]) {
  const loaded = loadDefinitions(paths.map(at));
  const show = (check: string) =>
    loaded.errors.filter((e) => e.check === check).map((e) => `${e.location.line} ${e.field}`);
  return { loaded, document: show('document'), references: show('references') };
}

describe('OpenSLO v1 fixtures get the reference validator verdict (README of test/fixtures/slo-specs)', () => {
  it.each([
    ['OpenSLO__OpenSLO/examples/budgeting-method/occurences-slo.yaml', []],
    ['OpenSLO__OpenSLO/examples/budgeting-method/ratio-timeslices.yaml', ['32 spec.objectives[0].op']],
    ['OpenSLO__OpenSLO/examples/budgeting-method/timeslices-slo.yaml', ['35 spec.objectives[0].op']],
    [
      'OpenSLO__OpenSLO/examples/treat-low-traffic-as-equally-important/timeslices-slo.yaml',
      ['33 spec.objectives[0].op'],
    ],
    ['OpenSLO__go-sdk/pkg/openslo/v1/examples/slos.yaml', ['40 spec.objectives[0].op']],
    ['OpenSLO__go-sdk/pkg/openslo/v1/examples/slis.yaml', []],
    ['OpenSLO__go-sdk/pkg/openslo/v1/examples/data_sources.yaml', []],
    ['OpenSLO__go-sdk/pkg/openslo/v1/examples/alert_policies.yaml', []],
    ['OpenSLO__go-sdk/pkg/openslo/v1/examples/alert_conditions.yaml', []],
    ['OpenSLO__go-sdk/pkg/openslo/v1/examples/alert_notification_targets.yaml', []],
    ['OpenSLO__go-sdk/pkg/openslo/v1/examples/services.yaml', []],
    ['OpenSLO__go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo.yaml', []],
    ['OpenSLO__go-sdk/pkg/openslosdk/test_data/decode/v1_slos.yaml', ['6 spec.timeWindow']],
    ['OpenSLO__oslo/test/inputs/validate/v1.yaml', ['40 spec.objectives[0].op', '59 metadata.name']],
    ['OpenSLO__oslo/test/inputs/validate/unknown-field.yaml', ['6 spec.markdown']],
    ['OpenSLO__oslo/test/inputs/validate/invalid-apiversion.yaml', ['1 apiVersion']],
  ])('%s', (file, expected) => {
    expect(problems([file]).document).toEqual(expected);
  });

  it('names file:line:column, the field and the rule in each message', () => {
    const { loaded } = problems(['OpenSLO__oslo/test/inputs/validate/v1.yaml']);
    expect(loaded.errors.map((e) => e.message)).toEqual([
      `${at('OpenSLO__oslo/test/inputs/validate/v1.yaml')}:40:13: spec.objectives[0].op: property is forbidden when 'indicator.spec.ratioMetric' is set (SLO "web-availability")`,
      `${at('OpenSLO__oslo/test/inputs/validate/v1.yaml')}:59:11: metadata.name: must be an RFC-1123 name: lower-case letters, digits and "-", at most 63 (Service "example service")`,
    ]);
  });

  it('accepts America/New_York (the golden output time zone error came from a container without tzdata)', () => {
    const { loaded } = problems(['OpenSLO__oslo/test/inputs/validate/v1.yaml']);
    expect(loaded.errors.some((e) => e.field.includes('timeZone'))).toBe(false);
  });

  it('decodes strictly, as oslo: an unknown field and an unknown apiVersion are errors', () => {
    const unknown = problems(['OpenSLO__oslo/test/inputs/validate/unknown-field.yaml']).loaded.errors[0]!;
    expect(unknown.reason).toContain('unknown field "markdown"');
    const version = problems(['OpenSLO__oslo/test/inputs/validate/invalid-apiversion.yaml']).loaded
      .errors[0]!;
    expect(version.reason).toContain('unsupported apiVersion "foo"');
  });

  it('adds what the reference validator misses: duplicate names and dangling references', () => {
    expect(problems(['OpenSLO__go-sdk/pkg/openslo/v1/examples/services.yaml']).references).toEqual([
      '24 metadata.name',
    ]);
    // Read with the conditions file, cpu-usage-breach resolves; the two targets are defined nowhere upstream.
    expect(
      problems([
        'OpenSLO__go-sdk/pkg/openslo/v1/examples/alert_policies.yaml',
        'OpenSLO__go-sdk/pkg/openslo/v1/examples/alert_conditions.yaml',
        'OpenSLO__go-sdk/pkg/openslo/v1/examples/alert_notification_targets.yaml',
      ]).references,
    ).toEqual(['18 spec.notificationTargets[0].targetRef', '50 spec.notificationTargets[0].targetRef']);
  });

  it('warns that a calendar duration of 1m is one minute where a month (1M) was surely meant', () => {
    const { loaded } = problems(['OpenSLO__OpenSLO/examples/budgeting-method/timeslices-slo.yaml']);
    expect(loaded.warnings.map((w) => `${w.location.line} ${w.field}`)).toContain(
      '27 spec.timeWindow[0].duration',
    );
  });

  it('resolves the go-sdk inline input to the golden output', () => {
    const { loaded } = problems(['OpenSLO__go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo.yaml']);
    expect(loaded.errors).toEqual([]);
    const golden = parse(
      readFileSync(at('OpenSLO__go-sdk/pkg/openslosdk/test_data/inline/outputs/v1_slo.yaml'), 'utf8'),
    );
    expect(loaded.openslo.slos.map((slo) => slo.inlined)).toEqual(golden);
  });

  it('exposes alert policies with their conditions and targets inlined', () => {
    const { loaded } = problems(['OpenSLO__go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo.yaml']);
    expect(loaded.openslo.alertConditions.map((c) => c.name)).toEqual(['cpu-usage-breach']);
    expect(loaded.openslo.alertNotificationTargets.map((t) => t.name)).toEqual(['devs-email-notification']);
    const policies = (loaded.openslo.slos[1]!.inlined.spec.alertPolicies ?? []) as Array<{
      spec: { conditions: Array<{ spec: { condition: { op: string } } }> };
    }>;
    expect(policies[0]!.spec.conditions[0]!.spec.condition.op).toBe('lte');
  });

  it('routes each SLO to the notification targets its alert policies name, referenced or inline', () => {
    const { loaded } = problems(['OpenSLO__go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo.yaml']);
    expect(loaded.openslo.notificationRoutes).toEqual([
      { slo: 'my-slo-2', targets: ['devs-email-notification', 'pd-on-call-notification'] },
    ]);
  });

  it('validates but does not evaluate SLOs on other systems, and says so', () => {
    const { loaded } = problems(['OpenSLO__OpenSLO/examples/budgeting-method/occurences-slo.yaml']);
    expect(loaded.definitions).toEqual([]);
    expect(loaded.warnings[0]!.field).toBe('spec.indicator.spec.thresholdMetric.metricSource.type');
    expect(loaded.warnings[0]!.reason).toContain('type: sloguard');
  });
});

describe('Sloth alert windows', () => {
  it("google-28d.yaml: same windows for three tiers; Sloth's slow ticket fires under 1×, ours never does", () => {
    const spec = parse(readFileSync(at('slok__sloth/internal/alert/windows/google-28d.yaml'), 'utf8')).spec;
    const hours = (text: string) => ({ '1h': 1, '6h': 6, '1d': 24, '3d': 72 })[text]!;
    const sloth = [spec.page.quick, spec.page.slow, spec.ticket.quick, spec.ticket.slow] as Array<{
      errorBudgetPercent: number;
      longWindow: string;
      shortWindow: string;
    }>;
    const slothFactors = sloth.map(
      (tier) => (tier.errorBudgetPercent * 28 * 24) / 100 / hours(tier.longWindow),
    );
    const tiers = burnRateTiers(28 * 86_400_000);
    expect(tiers.slice(0, 3).map((t) => [t.longWindow, t.shortWindow])).toEqual(
      sloth.slice(0, 3).map((t) => [t.longWindow, t.shortWindow]),
    );
    expect(slothFactors[3]).toBeLessThan(1);
    expect(Math.min(...tiers.map((t) => t.factor))).toBe(1);
  });
});

const folders = tempFolders();
afterEach(() => folders.cleanup());
const write = folders.write;

const SLI = `apiVersion: openslo/v1
kind: SLI
metadata:
  name: search-ok
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: sloguard
        spec: { source: loadbalancer, operation: /search, method: get, good: { status: "< 500" } }
    total:
      metricSource:
        type: sloguard
        spec: { source: loadbalancer, operation: /search, method: get }
`;

const slo = (name: string, rest: string) => `apiVersion: openslo/v1
kind: SLO
metadata:
  name: ${name}
  labels: { team: [games, store] }
spec:
  service: play-store
${rest}`;

describe('OpenSLO SLOs on sloguard data (metricSource.type: sloguard)', () => {
  it('maps a referenced ratio SLI, a calendar month and Timeslices budgeting', () => {
    const path = write({
      'sli.yaml': SLI,
      'slo.yaml': slo(
        'search-monthly',
        `  indicatorRef: search-ok
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar: { startTime: "2024-01-01 00:00:00", timeZone: Europe/Berlin }
  budgetingMethod: Timeslices
  objectives:
    - targetPercent: 99.5
      timeSliceTarget: 0.95
      timeSliceWindow: 5m
`,
      ),
    });
    const { definitions, errors } = loadDefinitions([path]);
    expect(errors).toEqual([]);
    const [definition] = definitions;
    expect(definition).toMatchObject({
      name: 'search-monthly',
      service: 'play-store',
      labels: { team: 'games,store' },
      indicator: {
        source: 'loadbalancer',
        select: { route: '/search', method: 'GET' },
        good: { kind: 'availability' },
      },
      objective: 0.995,
      windowSpec: {
        kind: 'calendar',
        unit: 'month',
        count: 1,
        timeZone: 'Europe/Berlin',
        anchor: '2024-01-01 00:00:00',
      },
      window: '1 month from 2024-01-01 00:00:00 (Europe/Berlin)',
      budgeting: 'timeslices',
      timeslices: { sliceMs: 300_000, target: 0.95 },
      format: 'openslo',
    });
  });

  it('maps a latency threshold from op and value (milliseconds)', () => {
    const path = write({
      'slo.yaml': slo(
        'search-fast',
        `  indicator:
    metadata: { name: search-latency }
    spec:
      thresholdMetric:
        metricSource:
          type: sloguard
          spec: { source: traces, operation: /search, metric: latency }
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives:
    - { op: lte, value: 300, target: 0.99 }
`,
      ),
    });
    const [definition] = loadDefinitions([path]).definitions;
    expect(definition!.indicator.good).toEqual({ kind: 'latency', thresholdUs: 300_000, text: '<= 300ms' });
    expect(definition!.windowSpec).toEqual({ kind: 'rolling', ms: 28 * 86_400_000 });
    expect(definition!.window).toBe('28d');
  });

  it('maps per-objective indicators with compositeWeight to a composite', () => {
    const path = write({
      'sli.yaml': SLI,
      'slo.yaml': slo(
        'browse',
        `  timeWindow: [{ duration: 4w, isRolling: true }]
  budgetingMethod: Occurrences
  objectives:
    - { displayName: search, indicatorRef: search-ok, target: 0.999, compositeWeight: 2 }
    - displayName: home
      target: 0.99
      indicator:
        metadata: { name: home-ok }
        spec:
          ratioMetric:
            good: { metricSource: { type: sloguard, spec: { source: loadbalancer, operation: /, good: { status: "< 500" } } } }
            total: { metricSource: { type: sloguard, spec: { source: loadbalancer, operation: / } } }
`,
      ),
    });
    const { definitions, errors } = loadDefinitions([path]);
    expect(errors).toEqual([]);
    const composite = definitions[0]!.composite!;
    expect(
      composite.components.map((c) => [c.name, c.indicator.select.route, c.weight, c.objective]),
    ).toEqual([
      ['search', '/search', 2, 0.999],
      ['home', '/', 1, 0.99],
    ]);
    expect(definitions[0]!.objective).toBeCloseTo((2 * 0.999 + 0.99) / 3, 12);
  });

  it('reports a dangling indicatorRef and a selector mismatch at their places', () => {
    const path = write({
      'slo.yaml': slo(
        'lost',
        `  indicatorRef: nowhere
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
`,
      ),
      'sli.yaml': SLI.replace('operation: /search, method: get, good', 'operation: /other, good'),
      'slo2.yaml': slo(
        'mismatch',
        `  indicatorRef: search-ok
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
`,
      ),
    });
    const { errors, definitions } = loadDefinitions([path]);
    expect(definitions).toEqual([]);
    expect(errors.map((e) => [e.location.file.split('/').at(-1), e.location.line, e.field, e.check])).toEqual(
      [
        ['slo.yaml', 8, 'spec.indicatorRef', 'references'],
        ['sli.yaml', 11, 'spec.ratioMetric.good.metricSource.spec', 'document'],
      ],
    );
  });

  it('rejects an SLO name used by a native SLO and an OpenSLO SLO', () => {
    const native = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: search-ok-slo, service: play-store }
spec:
  indicator: { source: loadbalancer }
  objective: 99
  window: 28d
`;
    const path = write({
      'a.yaml': native,
      'b.yaml': `${SLI}---\n${slo('search-ok-slo', '  indicatorRef: search-ok\n  timeWindow: [{ duration: 28d, isRolling: true }]\n  budgetingMethod: Occurrences\n  objectives: [{ target: 0.99 }]\n')}`,
    });
    const { errors, definitions } = loadDefinitions([path]);
    expect(definitions).toHaveLength(1);
    expect(errors.map((e) => e.reason)).toEqual([
      expect.stringContaining('duplicate SLO name "search-ok-slo"'),
    ]);
  });
});

describe('OpenSLO runbook and owner (docs/incidents.md)', () => {
  const dirs = tempFolders();
  afterEach(() => dirs.cleanup());
  const slo = (metadata: string) => `apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-availability
${metadata}
spec:
  service: play-store
  indicator:
    metadata: { name: search-ok }
    spec:
      ratioMetric:
        counter: true
        good: { metricSource: { type: sloguard, spec: { source: loadbalancer, good: { status: "< 500" } } } }
        total: { metricSource: { type: sloguard, spec: { source: loadbalancer } } }
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.999 }]
`;
  const read = (metadata: string) => {
    const loaded = loadDefinitions([dirs.write({ 'slo.yaml': slo(metadata) })]);
    expect(loaded.errors).toEqual([]);
    const [definition] = loaded.definitions;
    return [definition!.runbook, definition!.owner];
  };

  it('takes them from annotations, the owner else from the owner or team label', () => {
    expect(
      read(
        '  annotations: { sloguard.dev/runbook: "https://runbooks.example.com/search", sloguard.dev/owner: search }\n  labels: { team: other }',
      ),
    ).toEqual(['https://runbooks.example.com/search', 'search']);
    expect(
      read('  annotations: { runbook_url: "https://wiki.example.com/rb" }\n  labels: { team: discovery }'),
    ).toEqual(['https://wiki.example.com/rb', 'discovery']);
    // Not a URL: no runbook rather than a link nobody can follow.
    expect(read('  annotations: { sloguard.dev/runbook: "ask Bob" }')).toEqual([undefined, undefined]);
  });
});
