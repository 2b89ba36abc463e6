import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/definitions/load.js';
import { GatePolicies } from '../../src/gate/policy.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});
function load(files: Record<string, string>) {
  const dir = tempDir();
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) dir.file(name, text);
  return loadDefinitions([dir.path]);
}

const slo = (name: string, service = 'checkout') => `apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${name}, service: ${service} }
spec:
  indicator: { source: loadbalancer }
  objective: 99.9
  window: 28d
`;

const policyFile = `apiVersion: sloguard/v1
kind: GatePolicy
metadata:
  name: checkout-gate
spec:
  service: checkout
  slos: [checkout-availability]
  warnBelow: 30
  recoveryMargin: 15
  onNoData: warn
  exemptions: { hotfix: true }
  environments:
    staging: { mode: observe, onNoData: allow, onInsufficientData: deny, minValidEvents: 50 }
    production: { onNoData: deny, denyOnPageAlert: false }
`;

describe('GatePolicy documents', () => {
  it('loads beside the SLOs and resolves per environment over the service defaults', () => {
    const loaded = load({
      'checkout.yaml': `${slo('checkout-availability')}---\n${slo('checkout-latency')}---\n${policyFile}`,
    });
    expect(loaded.errors).toEqual([]);
    expect(loaded.definitions.map((d) => d.name)).toEqual(['checkout-availability', 'checkout-latency']);
    const policies = new GatePolicies(loaded.policies);
    expect(policies.resolve('checkout', 'staging')).toEqual({
      name: 'checkout-gate',
      service: 'checkout',
      environment: 'staging',
      slos: ['checkout-availability'],
      warnBelow: 0.3,
      recoveryMargin: 0.15,
      mode: 'observe',
      onNoData: 'allow',
      onInsufficientData: 'deny',
      minValidEvents: 50,
      denyOnPageAlert: true,
      changeFreezes: [],
      exempt: ['rollback', 'security', 'hotfix'],
    });
    expect(policies.resolve('checkout', 'production')).toMatchObject({
      mode: 'enforce',
      onNoData: 'deny',
      denyOnPageAlert: false,
    });
    expect(policies.resolve('checkout', 'dev').onNoData).toBe('warn');
    expect(policies.environmentsOf('checkout')).toEqual(['staging', 'production']);
  });

  it('gives a service without a policy the documented defaults: deny on no data only in production', () => {
    const policies = new GatePolicies();
    expect(policies.resolve('user-profile', 'production')).toEqual({
      name: null,
      service: 'user-profile',
      environment: 'production',
      slos: 'all',
      warnBelow: 0.25,
      recoveryMargin: 0.1,
      mode: 'enforce',
      onNoData: 'deny',
      onInsufficientData: 'warn',
      minValidEvents: null,
      denyOnPageAlert: true,
      changeFreezes: [],
      exempt: ['rollback', 'security'],
    });
    expect(policies.resolve('user-profile', 'staging').onNoData).toBe('warn');
    expect(policies.resolve('user-profile', null).onNoData).toBe('warn');
  });

  it('keeps one frozen policy per service and environment, bounded however many environments callers name', () => {
    const policies = new GatePolicies(
      load({ 'checkout.yaml': `${slo('checkout-availability')}---\n${policyFile}` }).policies,
    );
    const production = policies.resolve('checkout', 'production');
    expect(policies.resolve('checkout', 'production')).toBe(production);
    expect(policies.resolve('checkout', null)).not.toBe(production);
    expect(Object.isFrozen(production) && Object.isFrozen(production.exempt)).toBe(true);
    // Past the cache's bound (4,096) every scope still resolves as it did, kept or not.
    for (let i = 0; i < 5_000; i++)
      expect(policies.resolve('checkout', `env-${i}`).environment).toBe(`env-${i}`);
    expect(policies.resolve('checkout', 'production')).toEqual(production);
    expect(policies.resolve('checkout', 'staging').mode).toBe('observe');
  });

  it('reports schema errors at file:line:column of the field', () => {
    const loaded = load({
      'bad.yaml': policyFile.replace('  warnBelow: 30\n', '  warnBelow: 30\n  mdoe: observe\n'),
    });
    expect(loaded.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/bad\.yaml:9:3: spec\.mdoe: unknown field "mdoe"/),
    ]);
    const wrongValue = load({ 'v.yaml': policyFile.replace('onNoData: warn', 'onNoData: maybe') });
    expect(wrongValue.errors[0]!.message).toMatch(
      /v\.yaml:10:13: spec\.onNoData: must be one of deny, allow, warn$/,
    );
  });

  it("gives SLOs without a runbook or owner their service's, and reads its incident policy", () => {
    const withIncidents = policyFile.replace(
      '  warnBelow: 30\n',
      '  warnBelow: 30\n  runbook: https://runbooks.example.com/checkout\n  owner: payments\n' +
        '  incidents: { postmortemBudget: 10, failureWindow: 2h }\n',
    );
    const own = slo('checkout-latency').replace(
      '  window: 28d\n',
      '  window: 28d\n  runbook: https://runbooks.example.com/latency\n',
    );
    const loaded = load({
      'slo.yaml': `${slo('checkout-availability')}---\n${own}`,
      'gate.yaml': withIncidents,
    });
    expect(loaded.errors).toEqual([]);
    expect(loaded.definitions.map((d) => [d.name, d.runbook, d.owner])).toEqual([
      ['checkout-availability', 'https://runbooks.example.com/checkout', 'payments'],
      ['checkout-latency', 'https://runbooks.example.com/latency', 'payments'],
    ]);
    expect(new GatePolicies(loaded.policies).incidentPolicy('checkout')).toEqual({
      postmortemThreshold: 0.1,
      failureWindowMs: 7_200_000,
      runbook: 'https://runbooks.example.com/checkout',
      owner: 'payments',
    });
    expect(new GatePolicies().incidentPolicy('checkout')).toEqual({
      postmortemThreshold: 0.2,
      failureWindowMs: 3_600_000,
      runbook: null,
      owner: null,
    });
    const bad = load({
      'slo.yaml': slo('checkout-availability'),
      'gate.yaml': policyFile.replace(
        '  warnBelow: 30\n',
        '  warnBelow: 30\n  incidents: { failureWindow: 9d }\n',
      ),
    });
    expect(bad.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /gate\.yaml:\d+:\d+: spec\.incidents\.failureWindow: expected a duration up to 7d, got "9d"/,
      ),
    ]);
    const notUrl = load({
      'slo.yaml': slo('checkout-availability').replace(
        '  window: 28d\n',
        '  window: 28d\n  runbook: wiki page\n',
      ),
    });
    expect(notUrl.errors[0]!.message).toMatch(/spec\.runbook/);
  });

  it('refuses SLOs of another service, unknown SLOs and a second policy for the same service', () => {
    const loaded = load({
      'a.yaml': `${slo('checkout-availability')}---\n${slo('profile-availability', 'user-profile')}`,
      'b.yaml': policyFile.replace('[checkout-availability]', '[profile-availability, nope]'),
      'c.yaml': policyFile.replace('[checkout-availability]', 'all'),
      'd.yaml': policyFile.replace('[checkout-availability]', 'all').replace('checkout-gate', 'second'),
    });
    expect(loaded.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /b\.yaml:7:9: spec\.slos: "profile-availability", "nope" are not SLOs of service "checkout"/,
      ),
      expect.stringMatching(
        /d\.yaml:6:12: spec\.service: service "checkout" already has GatePolicy "checkout-gate" \(.*c\.yaml:1\)/,
      ),
    ]);
    expect(loaded.policies.map((p) => p.name)).toEqual(['checkout-gate']);
  });
});
