import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { gateApp } from '../helpers/gateFixtures.js';
import { ensureBuilt, ROOT } from '../helpers/service.js';

/** The docs/ci examples, checked against the contract they rely on. */
const DOCS = join(ROOT, 'docs/ci');
const text = (file: string) => readFileSync(join(DOCS, file), 'utf8');
// Parsed YAML is an untyped tree; the tests walk it by the paths each tool documents.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Tree = any;
const yaml = (file: string): Tree[] => parseAllDocuments(text(file)).map((d) => d.toJS());

let ctx: Awaited<ReturnType<typeof gateApp>>;
beforeAll(async () => {
  ensureBuilt();
  ctx = await gateApp();
});
afterAll(async () => {
  await ctx.close();
});

describe('docs/ci examples', () => {
  it('are valid YAML', () => {
    for (const file of [
      'github-actions.yml',
      'gitlab-ci.yml',
      'argo-rollouts-analysistemplate.yaml',
      'flagger-canary.yaml',
      'spinnaker-webhook-stage.yml',
      'argocd-presync-job.yaml',
    ]) {
      expect(
        parseAllDocuments(text(file)).flatMap((d) => d.errors),
        file,
      ).toEqual([]);
    }
  });

  it('no example runs a package by name from a registry (npx sloguard), or carries a token in clear', () => {
    for (const file of readdirSync(DOCS).filter((f) => f !== 'README.md')) {
      expect(text(file), file).not.toMatch(/npx\s+sloguard/);
      expect(text(file), file).not.toMatch(/replace-with|Bearer [\w-]{16,}/);
    }
  });

  it('Argo Rollouts: the web metric reads an allow as success and a deny as failure, both as HTTP 200', async () => {
    const [template] = yaml('argo-rollouts-analysistemplate.yaml');
    const metric = template.spec.metrics[0];
    const url = new URL(
      metric.provider.web.url.replace('{{args.service}}', 'web').replace(/\{\{args\.\w+\}\}/g, 'x'),
    );
    expect(url.searchParams.get('codes')).toBe('body');
    const key = /^\{\$\.(\w+)\}$/.exec(metric.provider.web.jsonPath)![1]!;
    const judge = (result: string) =>
      metric.successCondition.split('||').some((c: string) => c.trim() === `result == "${result}"`);
    await ctx.traffic(1000, 0);
    const allow = await ctx.app.inject(`${url.pathname}${url.search}`);
    expect(allow.statusCode).toBe(200);
    expect(judge(allow.json()[key])).toBe(true);
    await ctx.traffic(0, 50);
    const deny = await ctx.app.inject(`${url.pathname}${url.search}`);
    expect(deny.statusCode).toBe(200);
    expect(judge(deny.json()[key])).toBe(false);
  });

  it('Spinnaker: the stage payload is accepted and its status strings are the ones the gate answers', async () => {
    const [{ webhook }] = yaml('spinnaker-webhook-stage.yml');
    const stage = webhook.preconfigured[0];
    expect(new URL(stage.url).pathname).toBe('/api/v1/gate/evaluations');
    expect(stage).toMatchObject({
      statusUrlResolution: 'locationHeader',
      statusJsonPath: '$.status',
      successStatuses: 'SUCCEEDED',
      terminalStatuses: 'TERMINAL',
    });
    const values: Record<string, string> = {
      service: 'web',
      environment: 'production',
      changeType: 'rollback',
      wait: '15m',
    };
    const payload = stage.payload
      .replace(/\$\{parameterValues\['(\w+)'\]\}/g, (_: string, name: string) => values[name]!)
      .replace(/\$\{[^}]*\}/g, '42');
    const started = await ctx.app.inject({ method: 'POST', url: stage.url, payload: JSON.parse(payload) });
    expect(started.statusCode).toBe(202);
    const polled = await ctx.app.inject(new URL(started.headers.location as string).pathname);
    expect([stage.successStatuses, stage.terminalStatuses, 'RUNNING']).toContain(polled.json().status);
  });

  it('Flagger and Argo CD call the gate route with what it reads', () => {
    const [canary] = yaml('flagger-canary.yaml');
    for (const hook of canary.spec.analysis.webhooks) {
      expect(hook.metadata.cmd).toContain('/api/v1/gate');
      expect(hook.metadata.cmd).toContain('--data-urlencode service=');
    }
    const [job] = yaml('argocd-presync-job.yaml');
    expect(job.metadata.annotations['argocd.argoproj.io/hook']).toBe('PreSync');
    expect(job.spec.template.spec.containers[0].args[0]).toMatch(/curl .*"\$SLOGUARD_URL\/api\/v1\/gate"/s);
  });
});
