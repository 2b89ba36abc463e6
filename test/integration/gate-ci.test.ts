import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATE_DEFINITIONS, webLines } from '../helpers/gateFixtures.js';
import { freePort } from '../helpers/ports.js';
import { CLI, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * CI callers as they really run: curl in a shell step and the sloguard CLI, against a real `sloguard serve`
 * whose budget moves from healthy to low to exhausted.
 */
const dir = tempDir('sloguard-gate-ci-');
let sloguard: SloguardProcess;

function run(command: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
const gate = (args: string[], env: Record<string, string> = {}) =>
  run(
    process.execPath,
    [CLI, 'gate', '--service', 'web', '--env', 'production', '--url', sloguard.url, ...args],
    env,
  );
/** A CI shell step: `set -e`, curl --fail-with-body prints the answer and fails the step on 423. */
const curlStep = () =>
  run(
    'bash',
    [
      '-c',
      `set -euo pipefail\ncurl -sS --fail-with-body "${sloguard.url}/api/v1/gate?service=web&environment=production&sha=$GIT_SHA"\necho "step continued"`,
    ],
    { GIT_SHA: 'deadbeef' },
  );

async function traffic(good: number, bad: number, validAfter: number) {
  const response = await fetch(`${sloguard.url}/api/v1/ingest/lb?format=nginx&service=web`, {
    method: 'POST',
    body: webLines(good, bad),
  });
  expect(response.status).toBe(202);
  await waitFor(`web-availability to count ${validAfter} requests`, async () => {
    const status = await sloguard.json<{ valid: number }>('/api/v1/slos/web-availability');
    return status.body.valid === validAfter;
  });
}

beforeAll(async () => {
  const definitions = join(dir.path, 'slo-definitions');
  mkdirSync(definitions);
  writeFileSync(join(definitions, 'web.yaml'), GATE_DEFINITIONS);
  sloguard = await SloguardProcess.start({ definitions });
});
afterAll(async () => {
  await sloguard?.cleanup();
  dir.cleanup();
});

describe('CI callers against a real sloguard', () => {
  it('allow: curl passes the step, the CLI exits 0 and writes the GitHub output files', async () => {
    await traffic(1000, 0, 1000);
    const step = await curlStep();
    expect(step.code).toBe(0);
    expect(step.stdout).toContain('"decision":"allow"');
    expect(step.stdout).toContain('step continued');

    const output = join(dir.path, 'github-output');
    const summary = join(dir.path, 'github-summary.md');
    const cli = await gate(['--format', 'github', '--sha', 'deadbeef'], {
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('ALLOW web:');
    expect(cli.stdout).toMatch(/^::notice title=Deploy gate allow::all 1 SLOs of web are within budget/m);
    const outputs = Object.fromEntries(
      [...readFileSync(output, 'utf8').matchAll(/^(\w+)<<(\S+)\n([\s\S]*?)\n\2$/gm)].map((m) => [m[1], m[3]]),
    );
    expect(outputs).toMatchObject({ decision: 'allow', allowed: 'true', decision_id: expect.any(String) });
    const table = readFileSync(summary, 'utf8');
    expect(table).toContain('### ✅ Deploy gate: allow for web (production)');
    expect(table).toMatch(/\| web-availability \| ok \| 100\.000% \| 99\.900% \| 100\.0% \|/);
  });

  it('warn: exit 0, or 3 with --fail-on warn; markdown and json formats', async () => {
    // 1 bad of 1,251: 20% of the budget left, below the 25% warning line.
    await traffic(250, 1, 1251);
    const lenient = await gate(['--format', 'markdown']);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('### ⚠️ Deploy gate: warn for web (production)');
    const strict = await gate(['--fail-on', 'warn', '--format', 'json']);
    expect(strict.code).toBe(3);
    expect(JSON.parse(strict.stdout)).toMatchObject({ decision: 'warn', allowed: true });
  });

  it('deny: curl fails the step with the answer printed, the CLI exits 2, and --wait lets an override through', async () => {
    await traffic(0, 5, 1256);
    const step = await curlStep();
    expect(step.code).toBe(22);
    expect(JSON.parse(step.stdout)).toMatchObject({ decision: 'deny', allowed: false });
    expect(step.stdout).not.toContain('step continued');
    expect(step.stderr).toContain('423');

    const denied = await gate([]);
    expect(denied.code).toBe(2);
    expect(denied.stdout).toContain('DENY web: web-availability has exhausted its error budget');

    const rollback = await gate(['--change-type', 'rollback']);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain('exempt: rollback change');

    const waiting = gate(['--wait', '20s', '--poll-interval', '300ms']);
    await waitFor('the CLI to ask at least twice', async () => {
      const audit = await sloguard.json<{ decisions: unknown[] }>(
        '/api/v1/gate/decisions?service=web&limit=1000',
      );
      return audit.body.decisions.length >= 9;
    });
    const granted = await fetch(`${sloguard.url}/api/v1/gate/overrides`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sloguard-actor': 'oncall' },
      body: JSON.stringify({
        service: 'web',
        environment: 'production',
        reason: 'fix',
        ticket: 'INC-3',
        expires_in: '1h',
      }),
    });
    expect(granted.status).toBe(201);
    const waited = await waiting;
    expect(waited.code).toBe(0);
    expect(waited.stderr).toContain('gate says deny');
    expect(waited.stdout).toContain('override');

    const timedOut = await gate(['--env', 'canary', '--wait', '1s', '--poll-interval', '300ms']);
    expect(timedOut.code).toBe(2);
  });

  it('a gate that cannot answer is exit 4, or 0 with --on-error allow; bad usage is 64', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const down = await run(process.execPath, [CLI, 'gate', '--service', 'web', '--url', nobody]);
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('gate failed: cannot reach');
    const lenient = await run(process.execPath, [
      CLI,
      'gate',
      '--service',
      'web',
      '--url',
      nobody,
      '--on-error',
      'allow',
    ]);
    expect(lenient.code).toBe(0);
    const unknown = await run(process.execPath, [CLI, 'gate', '--service', 'nobody', '--url', sloguard.url]);
    expect(unknown.code).toBe(4);
    expect((await gate(['--change-type', 'yolo'])).code).toBe(64);
    expect((await gate(['--wait', 'forever'])).code).toBe(64);
    expect((await gate(['--format', 'xml'])).code).toBe(64);
  });
});
