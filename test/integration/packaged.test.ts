import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SERVE_NODE_FLAGS } from '../../src/cli/nodeFlags.js';
import { GATE_DEFINITIONS, webLines } from '../helpers/gateFixtures.js';
import { type PackedInstall, packed } from '../helpers/packed.js';
import { freePort } from '../helpers/ports.js';
import { ROOT, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The package as a stranger gets it: `npm pack`, installed with production dependencies only into an empty
 * prefix, its `sloguard` command run with no checkout and no dev dependency in reach.
 */
const dir = tempDir('sloguard-packaged-');
const TOKENS = {
  SLOGUARD_ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  SLOGUARD_GATE_TOKEN: 'gate-token-0123456789abcdef',
  SLOGUARD_INGEST_TOKEN: 'ingest-token-0123456789abcdef',
};
let pack: PackedInstall;
let prefix: string;
let sloguard: SloguardProcess;

/** Runs a command with only the installed prefix and the system on PATH (no node_modules/.bin of this checkout). */
function run(command: string, args: string[], env: Record<string, string> = {}, cwd = dir.path) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    // A child left hanging is killed with its test, not left running on the machine.
    const child = spawn(command, args, {
      timeout: 280_000,
      cwd,
      env: { ...process.env, PATH: `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
const cli = (...args: string[]) => run('sloguard', args);

/** Sends `good` and `bad` requests of `name` to a service and waits until its SLO has counted them. */
async function traffic(to: SloguardProcess, name: string, good: number, bad: number, validAfter: number) {
  const response = await fetch(`${to.url}/api/v1/ingest/lb?format=nginx&service=${name}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.SLOGUARD_INGEST_TOKEN}` },
    body: webLines(good, bad),
  });
  expect(response.status).toBe(202);
  await waitFor(`${name}-availability to count ${validAfter} requests`, async () => {
    const status = await to.json<{ valid: number }>(`/api/v1/slos/${name}-availability`, {
      headers: { authorization: `Bearer ${TOKENS.SLOGUARD_ADMIN_TOKEN}` },
    });
    return status.body.valid === validAfter;
  });
}

beforeAll(async () => {
  pack = packed();
  prefix = pack.install();
  const definitions = join(dir.path, 'slo-definitions');
  mkdirSync(definitions);
  writeFileSync(join(definitions, 'web.yaml'), GATE_DEFINITIONS);
  // The shipped deploy/sloguard.yaml, as the container and the systemd unit use it: tokens from the environment.
  sloguard = await SloguardProcess.start({
    definitions,
    command: join(prefix, 'bin/sloguard'),
    env: {
      SLOGUARD_CONFIG: join(prefix, 'lib/node_modules/sloguard/deploy/sloguard.yaml'),
      SLOGUARD_LOG_LEVEL: 'info',
      ...TOKENS,
    },
  });
}, 360_000);
// Removing two installed prefixes takes up to a minute on a busy machine.
afterAll(async () => {
  await sloguard?.cleanup();
  pack?.cleanup();
  dir.cleanup();
}, 300_000);

describe('the packed tarball installed with production dependencies only', () => {
  it('holds dist/, the dashboards, the example SLOs and deploy/, and no dev dependency', async () => {
    expect(pack.devPackagesIn(prefix)).toEqual([]);
    const listing = await run('tar', ['tzf', pack.tarball]);
    const files = listing.stdout.split('\n');
    for (const file of [
      'package/dist/cli/main.js',
      'package/dashboards/overview.html',
      'package/slo-definitions/checkout.yaml',
      'package/deploy/sloguard.service',
    ])
      expect(files).toContain(file);
    expect(
      files.filter((f) => /^package\/(src|test|bench|node_modules)\/|\.map$|tsbuildinfo/.test(f)),
    ).toEqual([]);
  });

  it('serves: one human line names the version, the dashboard URL and the SLOs beside the JSON log', async () => {
    const line = await waitFor('the start line', () => sloguard.logs.join('').match(/^sloguard .*$/m)?.[0]);
    expect(line).toBe(
      `sloguard 0.1.0 serving ${sloguard.url}/ (dashboard), 1 SLOs from ${join(dir.path, 'slo-definitions')}`,
    );
    expect(sloguard.logs.join('')).toMatch(/^\{"level":30,.*"msg":"sloguard listening on/m);
    // The bin's shebang started node itself with serve's V8 flags (env -S execs node in the same process).
    const argv = readFileSync(`/proc/${sloguard.pid}/cmdline`, 'utf8').split('\0');
    expect(argv.slice(1, 1 + SERVE_NODE_FLAGS.length)).toEqual(SERVE_NODE_FLAGS);
    expect(sloguard.logs.join('')).not.toContain('node started without');
    const dashboard = await fetch(`${sloguard.url}/`, {
      headers: { authorization: `Bearer ${TOKENS.SLOGUARD_ADMIN_TOKEN}` },
    });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain('<html');
  });

  it('validates SLO files: exit 0, and 1 with file:line:column', async () => {
    const ok = await cli('validate', join(prefix, 'lib/node_modules/sloguard/slo-definitions'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: 4 SLOs in 2 files/);
    const bad = dir.file(
      'bad.yaml',
      'apiVersion: sloguard/v1\nkind: SLO\nmetadata: { name: x, service: y }\n',
    );
    const invalid = await cli('validate', bad);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(`${bad}:1:1: missing required field "spec"`);
  });

  it('gate: exit 0 on allow and 2 on deny; status needs the token and prints table or JSON', async () => {
    const gate = () =>
      cli(
        'gate',
        '--service',
        'web',
        '--env',
        'production',
        '--url',
        sloguard.url,
        '--token',
        TOKENS.SLOGUARD_GATE_TOKEN,
      );
    await traffic(sloguard, 'web', 1000, 0, 1000);
    const allowed = await gate();
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('ALLOW web:');

    const unauthorized = await cli('status', '--url', sloguard.url);
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain(`${sloguard.url}/api/v1/slos answered HTTP 401 (pass a token`);
    const table = await cli('status', '--url', sloguard.url, '--token', TOKENS.SLOGUARD_GATE_TOKEN);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      /^SERVICE +SLO +STATE +SLI +OBJECTIVE +BUDGET LEFT\nweb +web-availability +ok +100\.000% +99\.900% +100\.0%\n$/,
    );
    const json = await run('sloguard', ['status', '--url', sloguard.url, '--format', 'json'], {
      SLOGUARD_TOKEN: TOKENS.SLOGUARD_GATE_TOKEN,
    });
    expect(JSON.parse(json.stdout).slos[0]).toMatchObject({ name: 'web-availability', state: 'ok' });

    await traffic(sloguard, 'web', 0, 5, 1005);
    const denied = await gate();
    expect(denied.code).toBe(2);
    expect(denied.stdout).toContain('DENY web: web-availability has exhausted its error budget');
  });

  it('an unreachable service is reported with its URL and the cause', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const status = await cli('status', '--url', nobody);
    expect(status.code).toBe(1);
    expect(status.stderr).toBe(
      `sloguard status: cannot reach ${nobody}: connect ECONNREFUSED ${nobody.slice(7)}\n`,
    );
    const gate = await cli('gate', '--service', 'web', '--url', nobody);
    expect(gate.code).toBe(4);
    expect(gate.stderr).toContain(`gate failed: cannot reach ${nobody}: connect ECONNREFUSED`);
  });

  it('--help loads no service code: the static imports of the CLI reach no command module', () => {
    // Static imports run before `--help` answers; command modules come in through import() when they run. The
    // CLI is bundled (esbuild.config.mjs): main.js and the shared chunks it imports, while each command's
    // own chunk (main-<command>-HASH.js, or serve.js unbundled) is loaded by import().
    const dist = join(prefix, 'lib/node_modules/sloguard/dist');
    const reached = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const [, from] of readFileSync(join(dist, file), 'utf8').matchAll(
        /^(?:import|export)\b[^;]*?from ['"]([^'"]+)['"]/gm,
      )) {
        if (from!.startsWith('.')) visit(join(dirname(file), from!));
        else packages.add(from!);
      }
    };
    visit('cli/main.js');
    const files = [...reached];
    expect(files).toContain('cli/main.js');
    expect(files.filter((file) => !/^cli\/main(?:-chunk-[A-Z0-9]+)?\.js$/.test(file))).toEqual([]);
    // Commander is bundled; require() for CommonJS dependencies comes from node:module.
    expect([...packages]).toEqual(['node:module']);
    // Commander and the option parsers (~140 KB), not the service: TypeBox alone is ~700 KB bundled.
    const bytes = files.reduce((sum, file) => sum + statSync(join(dist, file)).size, 0);
    expect(bytes).toBeLessThan(300_000);
  });
});

/**
 * docs/ci as written: each example's command runs in a shell with the environment its CI system gives it
 * (the documented variables, the secrets as tokens), against a real service of the installed package. The
 * only edit is the address: the examples' sloguard.sre.svc / sloguard.example.internal become the test's.
 */
describe('docs/ci examples run as written', () => {
  const DOCS = join(ROOT, 'docs/ci');
  const text = (file: string) => readFileSync(join(DOCS, file), 'utf8');
  // Parsed YAML is an untyped tree; the tests walk it by the paths each tool documents.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const yaml = (file: string): any[] => parseAllDocuments(text(file)).map((d) => d.toJS());
  const ADDRESS = /https?:\/\/sloguard\.(?:sre\.svc:9411|example\.internal)/g;
  let service: SloguardProcess;
  let target = '';
  const at = (value: string) => value.replace(ADDRESS, target);
  const workspace = () => mkdtempSync(join(dir.path, 'ws-'));

  /** Shell steps of each CI system: name → run(onError) resolving to the exit code. */
  type Step = (onError: 'deny' | 'allow') => Promise<{ code: number; stdout: string; stderr: string }>;

  const gitlab: Step = (onError) => {
    const [pipeline] = yaml('gitlab-ci.yml');
    return run(
      'sh',
      ['-e', '-c', pipeline['deploy-gate'].script.join('\n')],
      {
        ...pipeline.variables,
        SLOGUARD_URL: at(pipeline.variables.SLOGUARD_URL),
        SLOGUARD_ON_ERROR: onError,
        SLOGUARD_TOKEN: TOKENS.SLOGUARD_GATE_TOKEN,
        CI_COMMIT_SHA: 'deadbeef',
        CI_PIPELINE_URL: 'https://gitlab.example/p/1',
      },
      workspace(),
    );
  };
  const jenkins: Step = (onError) => {
    const file = text('Jenkinsfile');
    const script = /script: '''([\s\S]*?)'''/.exec(file)![1]!;
    const environment = Object.fromEntries(
      [.../environment \{([\s\S]*?)\}/.exec(file)![1]!.matchAll(/(\w+) = '([^']*)'/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    return run(
      'sh',
      ['-e', '-c', script],
      {
        ...environment,
        SLOGUARD_URL: at(environment.SLOGUARD_URL!),
        SLOGUARD_ON_ERROR: onError,
        SLOGUARD_TOKEN: TOKENS.SLOGUARD_GATE_TOKEN,
        GIT_COMMIT: 'deadbeef',
        BUILD_URL: 'https://jenkins.example/job/1',
      },
      workspace(),
    );
  };
  const argocd: Step = (onError) => {
    const [job] = yaml('argocd-presync-job.yaml');
    const container = job.spec.template.spec.containers[0];
    const env = Object.fromEntries(
      container.env
        .filter((e: { value?: string }) => e.value !== undefined)
        .map((e: { name: string; value: string }) => [e.name, at(e.value)]),
    );
    return run(
      container.command[0],
      [...container.command.slice(1), container.args[0]],
      {
        ...env,
        SLOGUARD_ON_ERROR: onError,
        SLOGUARD_TOKEN: TOKENS.SLOGUARD_GATE_TOKEN,
      },
      workspace(),
    );
  };
  const flagger: Step = async (onError) => {
    const [canary] = yaml('flagger-canary.yaml');
    const results = [];
    for (const hook of canary.spec.analysis.webhooks) {
      expect(hook.metadata.type).toBe('bash');
      const cmd = at(hook.metadata.cmd).replace('SLOGUARD_ON_ERROR=deny', `SLOGUARD_ON_ERROR=${onError}`);
      results.push(await run('bash', ['-c', cmd], { SLOGUARD_TOKEN: TOKENS.SLOGUARD_GATE_TOKEN }));
    }
    expect(new Set(results.map((r) => r.code)).size).toBe(1);
    return results[0]!;
  };
  let githubPrefix = '';
  const githubEnv = (extra: Record<string, string>) => {
    const job = yaml('github-actions.yml')[0].jobs.deploy;
    return {
      SLOGUARD_URL: at(job.env.SLOGUARD_URL),
      SLOGUARD_TOKEN: TOKENS.SLOGUARD_GATE_TOKEN,
      SLOGUARD_CLI: `file://${pack.tarball}`,
      SLOGUARD_CLI_SHA256: pack.sha256,
      GITHUB_SHA: 'deadbeef',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/user-profile',
      GITHUB_RUN_ID: '42',
      RUNNER_TEMP: workspace(),
      ...extra,
    };
  };
  const githubStep = (name: string) =>
    yaml('github-actions.yml')[0].jobs.deploy.steps.find((s: { name?: string }) => s.name === name);
  /** The gate step; `--wait 15m` would poll a deny or an outage for 15 minutes, so those runs wait 1s. */
  const github = (onError: 'deny' | 'allow', waitAsWritten: boolean) => {
    let script: string = githubStep('Deploy gate').run;
    if (!waitAsWritten) script = script.replace('--wait 15m', '--wait 1s');
    if (onError === 'allow') script = script.replace('--on-error deny', '--on-error allow');
    const output = join(workspace(), 'output');
    const summary = join(workspace(), 'summary');
    return run(
      'bash',
      ['-e', '-c', script],
      githubEnv({
        PATH: `${join(githubPrefix, 'bin')}:/usr/bin:/bin`,
        CHANGE_TYPE: 'feature',
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
      }),
    ).then((result) => ({ ...result, output: readFileSync(output, 'utf8') }));
  };
  /** Argo Rollouts' web metric: the URL with the template's args, the header, jsonPath and successCondition. */
  const rollouts = async () => {
    const [template] = yaml('argo-rollouts-analysistemplate.yaml');
    const metric = template.spec.metrics[0];
    const args: Record<string, string> = {
      service: 'user-profile',
      environment: 'production',
      version: '1.4.2',
      'sloguard-token': TOKENS.SLOGUARD_GATE_TOKEN,
    };
    const fill = (value: string) =>
      at(value).replace(/\{\{args\.([\w-]+)\}\}/g, (_, name: string) => args[name]!);
    const response = await fetch(fill(metric.provider.web.url), {
      headers: Object.fromEntries(
        metric.provider.web.headers.map((h: { key: string; value: string }) => [h.key, fill(h.value)]),
      ),
    });
    expect(response.status).toBe(200);
    const key = /^\{\$\.(\w+)\}$/.exec(metric.provider.web.jsonPath)![1]!;
    const result = ((await response.json()) as Record<string, unknown>)[key];
    return metric.successCondition.split('||').some((c: string) => c.trim() === `result == "${result}"`);
  };

  beforeAll(async () => {
    const definitions = join(workspace(), 'slo-definitions');
    mkdirSync(definitions);
    writeFileSync(join(definitions, 'user-profile.yaml'), GATE_DEFINITIONS.replaceAll('web', 'user-profile'));
    service = await SloguardProcess.start({
      definitions,
      command: join(prefix, 'bin/sloguard'),
      env: { SLOGUARD_CONFIG: join(prefix, 'lib/node_modules/sloguard/deploy/sloguard.yaml'), ...TOKENS },
    });
    target = service.url;
  });
  afterAll(async () => {
    await service?.cleanup();
  });

  it('GitHub Actions installs the CLI from the pinned tarball, checksum checked, without dev dependencies', async () => {
    const install: string = githubStep('Install the sloguard CLI').run;
    githubPrefix = join(workspace(), 'npm-global');
    const npm = { ...pack.npmEnv, npm_config_prefix: githubPrefix };
    const tampered = await run(
      'bash',
      ['-e', '-c', install],
      githubEnv({ ...npm, SLOGUARD_CLI_SHA256: '0'.repeat(64) }),
    );
    expect(tampered.code).not.toBe(0);
    expect(tampered.stdout).toContain('sloguard.tgz: FAILED');
    const installed = await run('bash', ['-e', '-c', install], githubEnv(npm));
    expect(installed.code, installed.stderr).toBe(0);
    expect(pack.devPackagesIn(githubPrefix)).toEqual([]);
  }, 300_000);

  it('allow: every example passes; GitHub writes its outputs; Spinnaker polls to SUCCEEDED', async () => {
    await traffic(service, 'user-profile', 1000, 0, 1000);
    for (const [name, step] of Object.entries({ gitlab, jenkins, argocd, flagger })) {
      const result = await step('deny');
      expect(result.code, `${name}: ${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout, name).toContain('"decision":"allow"');
    }
    const gh = await github('deny', true);
    expect(gh.code, gh.stderr).toBe(0);
    expect(gh.stdout).toContain('ALLOW user-profile:');
    expect(gh.output).toMatch(/^decision<<(\S+)\nallow\n\1$/m);
    expect(await rollouts()).toBe(true);

    const [{ webhook }] = yaml('spinnaker-webhook-stage.yml');
    const stage = webhook.preconfigured[0];
    const parameters: Record<string, string> = {
      service: 'user-profile',
      environment: 'production',
      changeType: 'feature',
      wait: '15m',
    };
    const payload = stage.payload
      .replace(/\$\{parameterValues\['(\w+)'\]\}/g, (_: string, name: string) => parameters[name]!)
      .replace(/\$\{[^}]*\}/g, '42');
    // Spinnaker resolves the `encrypted:` header from its secret store: here, to the gate token.
    expect(stage.customHeaders.Authorization[0]).toMatch(/^encrypted:/);
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${TOKENS.SLOGUARD_GATE_TOKEN}`,
    };
    const started = await fetch(at(stage.url), { method: 'POST', headers, body: payload });
    expect(started.status).toBe(202);
    const location = started.headers.get('location')!;
    await waitFor('the evaluation to succeed', async () => {
      const polled = await fetch(location, { headers });
      return ((await polled.json()) as { status: string }).status === stage.successStatuses;
    });
  });

  it('warn: GitLab and Jenkins exit 3 (allowed failure, unstable), the others pass', async () => {
    // 1 bad of 1,251: 20% of the budget left, below the 25% warning line.
    await traffic(service, 'user-profile', 250, 1, 1251);
    expect((await gitlab('deny')).code).toBe(3);
    expect((await jenkins('deny')).code).toBe(3);
    expect((await argocd('deny')).code).toBe(0);
    expect((await flagger('deny')).code).toBe(0);
    expect((await github('deny', true)).code).toBe(0);
    expect(await rollouts()).toBe(true);
    const [pipeline] = yaml('gitlab-ci.yml');
    expect(pipeline['deploy-gate'].allow_failure).toEqual({ exit_codes: [3] });
  });

  it('deny: every example exits 2 with the answer printed; the Argo metric fails', async () => {
    await traffic(service, 'user-profile', 0, 5, 1256);
    for (const [name, step] of Object.entries({ gitlab, jenkins, argocd, flagger })) {
      const result = await step('allow');
      expect(result.code, `${name}: ${result.stdout}${result.stderr}`).toBe(2);
      expect(result.stdout, name).toContain('"decision":"deny"');
    }
    const gh = await github('allow', false);
    expect(gh.code).toBe(2);
    expect(gh.stdout).toContain('DENY user-profile');
    expect(await rollouts()).toBe(false);
  });

  it('sloguard unreachable: exit 4 with on-error deny, 0 with on-error allow', async () => {
    target = `http://127.0.0.1:${await freePort()}`;
    try {
      for (const [name, step] of Object.entries({ gitlab, jenkins, argocd, flagger })) {
        const blocked = await step('deny');
        expect(blocked.code, `${name}: ${blocked.stdout}${blocked.stderr}`).toBe(4);
        expect(blocked.stdout, name).toContain(`deploy gate failed: HTTP 000 from ${target}`);
        expect((await step('allow')).code, name).toBe(0);
      }
      const blocked = await github('deny', false);
      expect(blocked.code).toBe(4);
      expect(blocked.stderr).toContain(`gate failed: cannot reach ${target}`);
      expect((await github('allow', false)).code).toBe(0);
    } finally {
      target = service.url;
    }
  }, 120_000);
});
