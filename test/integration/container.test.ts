import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { ROOT } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * deploy/Dockerfile built with podman and run. No image registry is reachable here, so the base image is
 * made locally: mmdebstrap (Debian 12 from the Debian archive) plus this machine's Node 20, its headers and
 * npm, and its CA certificates (the registry is reached through them). Minutes of CPU: it runs only with
 * SLOGUARD_CONTAINER_TEST=1 (and podman and mmdebstrap installed); the base images stay for the next run.
 */
const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const enabled = process.env.SLOGUARD_CONTAINER_TEST === '1' && onPath('podman') && onPath('mmdebstrap');
if (!enabled) {
  // Opt-in, and said out loud: the first build (an mmdebstrap base image, then the image) takes about ten minutes.
  console.warn(
    'SKIPPED: the container image test runs only with SLOGUARD_CONTAINER_TEST=1 and podman and mmdebstrap installed (see docs/operations.md)',
  );
}
const BASE = 'localhost/sloguard-node-base:20';
const BUILDER = 'localhost/sloguard-node-base:20-local';
const IMAGE = 'localhost/sloguard:test';
const NAME = `sloguard-test-${process.pid}`;
const TOKENS = {
  SLOGUARD_ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  SLOGUARD_GATE_TOKEN: 'gate-token-0123456789abcdef',
  SLOGUARD_INGEST_TOKEN: 'ingest-token-0123456789abcdef',
};
// crun 1.8 refuses a hybrid cgroup hierarchy and the runtime may not raise rlimits on this VM: runc, lower limits.
const RUNTIME = onPath('runc') ? ['--runtime', 'runc'] : [];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];
const podman = (...args: string[]) =>
  execFileSync('podman', [...RUNTIME, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  });
const dir = tempDir('sloguard-container-');
let port = 0;

function baseImages(): void {
  if (spawnSync('podman', ['image', 'exists', BASE]).status !== 0) {
    const tarball = join(dir.path, 'base.tar');
    execFileSync(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--include=ca-certificates,python3,make,g++',
        '--customize-hook=copy-in /usr/bin/node /usr/bin/',
        '--customize-hook=mkdir -p "$1/usr/lib/node_modules" "$1/usr/include"',
        '--customize-hook=copy-in /usr/lib/node_modules/npm /usr/lib/node_modules/',
        '--customize-hook=copy-in /usr/include/node /usr/include/',
        '--customize-hook=ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/bin/npm"',
        'bookworm',
        tarball,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 },
    );
    podman('import', tarball, BASE);
  }
  const certificates = '/usr/local/share/ca-certificates';
  const extra = existsSync(certificates) ? readdirSync(certificates).filter((f) => f.endsWith('.crt')) : [];
  for (const file of extra) execFileSync('cp', [join(certificates, file), dir.path]);
  dir.file(
    'Containerfile',
    [
      `FROM ${BASE}`,
      ...(extra.length > 0
        ? ['COPY *.crt /usr/local/share/ca-certificates/', 'RUN update-ca-certificates']
        : []),
      'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt npm_config_nodedir=/usr',
    ].join('\n'),
  );
  podman('build', ...LIMITS, '-t', BUILDER, dir.path);
}

beforeAll(async () => {
  if (!enabled) return;
  baseImages();
  podman(
    'build',
    '--format',
    'docker',
    ...LIMITS,
    '--network',
    'host',
    '--build-arg',
    `NODE_IMAGE=${BUILDER}`,
    '--build-arg',
    `RUNTIME_IMAGE=${BUILDER}`,
    '-f',
    'deploy/Dockerfile',
    '-t',
    IMAGE,
    ROOT,
  );
  port = await freePort();
  podman(
    'run',
    '-d',
    '--name',
    NAME,
    ...LIMITS,
    '--network',
    'host',
    '-e',
    `SLOGUARD_PORT=${port}`,
    ...Object.entries(TOKENS).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
    '-v',
    `${NAME}:/var/lib/sloguard`,
    IMAGE,
  );
}, 1_800_000);
afterAll(() => {
  if (enabled) {
    spawnSync('podman', [...RUNTIME, 'rm', '-f', NAME]);
    spawnSync('podman', ['volume', 'rm', '-f', NAME]);
    spawnSync('podman', ['rmi', '-f', IMAGE]);
  }
  dir.cleanup();
});

describe.skipIf(!enabled)('the container image of deploy/Dockerfile', () => {
  it('serves as a non-root user with the database on its volume, and is healthy', async () => {
    await waitFor(
      'the container to be ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      {
        timeoutMs: 60_000,
      },
    );
    expect(podman('exec', NAME, 'id', '-u').trim()).toBe('10001');
    expect(podman('exec', NAME, 'ls', '-n', '/var/lib/sloguard')).toMatch(/10001 +10001 .* sloguard\.db\n/);
    expect(spawnSync('podman', [...RUNTIME, 'healthcheck', 'run', NAME]).status).toBe(0);
    // The start line goes to the container's stderr, beside the JSON log on stdout.
    expect(spawnSync('podman', [...RUNTIME, 'logs', NAME], { encoding: 'utf8' }).stderr).toMatch(
      /^sloguard 0\.1\.0 serving http:\/\/0\.0\.0\.0:\d+\/ \(dashboard\), 4 SLOs/m,
    );
    const gate = await fetch(`http://127.0.0.1:${port}/api/v1/gate?service=checkout`, {
      headers: { authorization: `Bearer ${TOKENS.SLOGUARD_GATE_TOKEN}` },
    });
    // The token of deploy/sloguard.yaml is accepted and the gate answers (the example SLOs have no data yet).
    expect([200, 423, 503]).toContain(gate.status);
    expect(((await gate.json()) as { decision: string }).decision).toMatch(/^(allow|warn|deny|error)$/);
  });

  it('stops on SIGTERM by draining: exit code 0 well within the stop timeout', () => {
    podman('stop', '-t', '30', NAME);
    expect(podman('inspect', NAME, '--format', '{{.State.ExitCode}}').trim()).toBe('0');
  });
});
