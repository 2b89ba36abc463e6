import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AnalysisTemplate, Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import { Ajv } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadDefinitions } from '../../src/definitions/load.js';
import { ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/** deploy/ and the Kubernetes objects of docs/ci, checked offline with the tools each target uses. */
const dir = tempDir('sloguard-deploy-');
afterAll(() => dir.cleanup());
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
// Parsed YAML is an untyped tree; the tests walk it by the paths each manifest kind documents.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Tree = any;
const documents = (path: string): Tree[] => parseAllDocuments(read(path)).map((d) => d.toJS());

const MODELS: Record<string, new (data: Tree) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'argoproj.io/v1alpha1/AnalysisTemplate': AnalysisTemplate,
  'argoproj.io/v1alpha1/Rollout': Rollout,
};
/** Validates against the Kubernetes (or Argo Rollouts) schema; throws naming the field that is wrong. */
function validate(object: Tree): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

describe('systemd unit', () => {
  it('passes systemd-analyze verify, and its hardening scores an exposure of 2.0 or less', () => {
    // verify checks that ExecStart exists: /usr/local is replaced, in a private mount namespace, by a
    // folder holding an executable bin/sloguard, so the unit is checked exactly as shipped.
    const local = join(dir.path, 'usr-local');
    mkdirSync(join(local, 'bin'), { recursive: true });
    chmodSync(dir.file('usr-local/bin/sloguard', '#!/bin/sh\n'), 0o755);
    const unit = join(ROOT, 'deploy/sloguard.service');
    const inNamespace = (command: string) =>
      spawnSync(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          `mount --bind "${local}" /usr/local && ${command}`,
        ],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    const verify = inNamespace(`systemd-analyze verify "${unit}"`);
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr).toBe('');
    const security = inNamespace(`systemd-analyze security --offline=true --threshold=20 "${unit}"`);
    expect(security.status, security.stdout.slice(-500)).toBe(0);
    expect(security.stdout).toMatch(/Overall exposure level for sloguard\.service: [0-2]\.\d/);
  });

  it('runs as a dynamic user in a strictly read-only system, and reloads with SIGHUP', () => {
    const settings = read('deploy/sloguard.service');
    for (const line of [
      'DynamicUser=yes',
      'StateDirectory=sloguard',
      'ProtectSystem=strict',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'KillSignal=SIGTERM',
      'Environment=SLOGUARD_DATABASE=/var/lib/sloguard/sloguard.db',
    ])
      expect(settings.split('\n')).toContain(line);
  });
});

describe('Kubernetes manifests', () => {
  const manifests = readdirSync(join(ROOT, 'deploy/kubernetes'))
    .filter((file) => file !== 'kustomization.yaml')
    .flatMap((file) => documents(`deploy/kubernetes/${file}`));
  const find = (kind: string, name: string) =>
    manifests.find((m) => m.kind === kind && m.metadata.name === name) ?? expect.fail(`no ${kind} ${name}`);

  it('validate against the Kubernetes schemas, and kustomization lists them all', () => {
    for (const manifest of manifests) validate(manifest);
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'PersistentVolumeClaim',
      'Secret',
      'Service',
    ]);
    const [kustomization] = documents('deploy/kubernetes/kustomization.yaml');
    expect(kustomization.resources.sort()).toEqual(
      readdirSync(join(ROOT, 'deploy/kubernetes'))
        .filter((f) => f !== 'kustomization.yaml')
        .sort(),
    );
  });

  it('run one pod that owns the database: one replica, Recreate, the PVC; probes on /readyz and /healthz', () => {
    const deployment = find('Deployment', 'sloguard');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 9411 }]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    const volumes = Object.fromEntries(pod.volumes.map((v: Tree) => [v.name, v]));
    const mounts = Object.fromEntries(container.volumeMounts.map((m: Tree) => [m.name, m.mountPath]));
    expect(volumes.data.persistentVolumeClaim.claimName).toBe(
      find('PersistentVolumeClaim', 'sloguard-data').metadata.name,
    );
    expect(mounts.data).toBe('/var/lib/sloguard');
    const env = Object.fromEntries(container.env.map((e: Tree) => [e.name, e]));
    expect(`${mounts.config}/sloguard.yaml`).toBe(env.SLOGUARD_CONFIG.value);
    expect(mounts.slos).toBe(env.SLOGUARD_DEFINITIONS.value);
    find('ConfigMap', volumes.config.configMap.name);
    find('ConfigMap', volumes.slos.configMap.name);
    // Every token the config reads comes from a key the Secret holds.
    const secret = find('Secret', 'sloguard');
    const tokens = [...read('deploy/sloguard.yaml').matchAll(/token: env:(\w+)/g)].map((m) => m[1]!);
    for (const name of tokens) {
      const ref = env[name]?.valueFrom?.secretKeyRef ?? expect.fail(`${name} not set from a Secret`);
      expect(ref.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData)).toContain(ref.key);
    }
    const service = find('Service', 'sloguard');
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(service.spec.ports[0]).toMatchObject({ port: 9411, targetPort: 'http' });
  });

  it('ConfigMaps carry deploy/sloguard.yaml and slo-definitions/ unchanged, and those SLOs are valid', () => {
    expect(find('ConfigMap', 'sloguard-config').data['sloguard.yaml']).toBe(read('deploy/sloguard.yaml'));
    const slos = find('ConfigMap', 'sloguard-slos').data;
    const shipped = readdirSync(join(ROOT, 'slo-definitions')).sort();
    expect(Object.keys(slos).sort()).toEqual(shipped);
    for (const file of shipped) expect(slos[file], file).toBe(read(`slo-definitions/${file}`));
    const folder = tempDir('sloguard-configmap-');
    for (const [file, text] of Object.entries(slos)) folder.file(file, text as string);
    const { errors, definitions } = loadDefinitions([folder.path]);
    folder.cleanup();
    expect(errors).toEqual([]);
    expect(definitions.length).toBeGreaterThan(0);
  });
});

/**
 * Flagger publishes no model package (`npm view @kubernetes-models/flagger`: 404), so its Canary is checked
 * against the part of Flagger's v1beta1 CRD schema these examples use, written out from the CRD's field list.
 */
const FLAGGER_CANARY = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'flagger.app/v1beta1' },
    kind: { const: 'Canary' },
    metadata: { type: 'object', required: ['name'] },
    spec: {
      type: 'object',
      required: ['targetRef', 'analysis'],
      properties: {
        targetRef: {
          type: 'object',
          required: ['apiVersion', 'kind', 'name'],
          properties: { kind: { enum: ['DaemonSet', 'Deployment', 'Service'] } },
        },
        service: { type: 'object', required: ['port'], properties: { port: { type: 'number' } } },
        analysis: {
          type: 'object',
          required: ['interval', 'threshold'],
          properties: {
            interval: { type: 'string', pattern: '^[0-9]+(m|s)' },
            threshold: { type: 'number' },
            maxWeight: { type: 'number' },
            stepWeight: { type: 'number' },
            webhooks: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'url'],
                additionalProperties: false,
                properties: {
                  name: { type: 'string' },
                  type: {
                    enum: [
                      '',
                      'confirm-rollout',
                      'pre-rollout',
                      'rollout',
                      'confirm-promotion',
                      'post-rollout',
                      'event',
                      'rollback',
                      'confirm-traffic-increase',
                    ],
                  },
                  muteAlert: { type: 'boolean' },
                  url: { type: 'string' },
                  timeout: { type: 'string', pattern: '^[0-9]+(m|s)' },
                  retries: { type: 'number' },
                  disableTLS: { type: 'boolean' },
                  metadata: { type: 'object', additionalProperties: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  },
};

describe('Kubernetes objects in docs/ci', () => {
  it('the Argo Rollouts AnalysisTemplate and Rollout validate against the Argo Rollouts schemas', () => {
    const objects = documents('docs/ci/argo-rollouts-analysistemplate.yaml');
    expect(objects.map((o) => o.kind)).toEqual(['AnalysisTemplate', 'Rollout']);
    for (const object of objects) validate(object);
    const [template] = objects;
    expect(template.spec.args.find((a: Tree) => a.name === 'sloguard-token').valueFrom.secretKeyRef).toEqual({
      name: 'sloguard',
      key: 'gate-token',
    });
  });

  it('the Argo CD PreSync Job validates as a batch/v1 Job', () => {
    const [job] = documents('docs/ci/argocd-presync-job.yaml');
    validate(job);
    const token = job.spec.template.spec.containers[0].env.find((e: Tree) => e.name === 'SLOGUARD_TOKEN');
    expect(token.valueFrom.secretKeyRef).toEqual({ name: 'sloguard', key: 'gate-token' });
  });

  it('the Flagger Canary validates against the fields of Flagger’s CRD it uses, and carries no token', () => {
    const check = new Ajv({ allErrors: true, strict: false }).compile(FLAGGER_CANARY);
    const [canary] = documents('docs/ci/flagger-canary.yaml');
    expect(check(canary), JSON.stringify(check.errors)).toBe(true);
    for (const hook of canary.spec.analysis.webhooks)
      expect(Object.keys(hook.metadata).sort()).toEqual(['cmd', 'type']);
    // The schema bites: a webhook with a header field Flagger does not have is refused.
    const withHeaders = structuredClone(canary);
    withHeaders.spec.analysis.webhooks[0].headers = { Authorization: 'Bearer x' };
    expect(check(withHeaders)).toBe(false);
  });
});
