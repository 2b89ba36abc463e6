import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { EXIT } from '../../src/cli/exitCodes.js';
import { gateApp } from '../helpers/gateFixtures.js';
import { freePort } from '../helpers/ports.js';
import { CLI, ensureBuilt, ROOT } from '../helpers/service.js';

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

  it('use only flags the CLI knows (every `sloguard gate` line runs to a gate failure, not bad usage)', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const commands = ['github-actions.yml', 'gitlab-ci.yml', 'Jenkinsfile'].flatMap((file) =>
      [...text(file).matchAll(/sloguard gate([^'|\n]*(?:\n\s+--[^\n]*)*)/g)].map((m) => ({
        file,
        args: m[1]!,
      })),
    );
    expect(commands.map((c) => c.file)).toEqual(['github-actions.yml', 'gitlab-ci.yml', 'Jenkinsfile']);
    for (const { file, args } of commands) {
      const argv = [...args.replace(/\$\{\{[^}]*\}\}/g, 'feature').matchAll(/--[\w-]+|"[^"]*"|\S+/g)].map(
        (m) => m[0].replace(/^"|"$/g, '').replace(/\$\w+/g, 'x'),
      );
      // Keep the documented --wait out of the run (it would poll the unreachable gate for its whole length).
      const wait = argv.indexOf('--wait');
      if (wait >= 0) expect(argv.splice(wait, 2)[1]).toMatch(/^\d+[smh]$/);
      const run = spawnSync(process.execPath, [CLI, 'gate', ...argv, '--url', nobody], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, GITHUB_OUTPUT: '', GITHUB_STEP_SUMMARY: '' },
        timeout: 20_000,
      });
      expect(run.status, `${file}: ${argv.join(' ')}\n${run.stderr}`).toBe(EXIT.gateFailed);
    }
  });

  it('GitLab lets exactly the warn exit code pass', () => {
    const [pipeline] = yaml('gitlab-ci.yml');
    expect(pipeline['deploy-gate'].allow_failure).toEqual({ exit_codes: [EXIT.warnFailed] });
    expect(pipeline['deploy-gate'].script.join(' ')).toContain('--fail-on warn');
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
      expect(new URL(hook.url).pathname).toBe('/api/v1/gate');
      expect(Object.keys(hook.metadata)).toEqual(expect.arrayContaining(['service', 'environment', 'token']));
    }
    const [job] = yaml('argocd-presync-job.yaml');
    expect(job.metadata.annotations['argocd.argoproj.io/hook']).toBe('PreSync');
    expect(job.spec.template.spec.containers[0].args[0]).toMatch(
      /curl -sS --fail-with-body .*\/api\/v1\/gate\?service=/s,
    );
  });
});
