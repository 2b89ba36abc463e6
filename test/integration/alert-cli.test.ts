import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureServer } from '../helpers/capture.js';
import { CLI, ensureBuilt } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

describe('sloguard notify test TARGET', () => {
  let capture: CaptureServer;
  let dir: ReturnType<typeof tempDir>;
  let config: string;

  beforeAll(async () => {
    ensureBuilt();
    capture = await CaptureServer.start();
    dir = tempDir('sloguard-notify-');
    config = dir.file(
      'sloguard.yaml',
      `publicUrl: https://sloguard.example.com
notifications:
  targets:
    ops: { kind: slack, url: "${capture.url}/services/T0/B0/hook-secret" }
`,
    );
  });
  afterAll(async () => {
    await capture.stop();
    dir.cleanup();
  });

  /** Runs the CLI without blocking this process: the capture server answering it lives here. */
  const notify = (target: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, 'notify', 'test', target],
        { env: { PATH: process.env.PATH, SLOGUARD_CONFIG: config }, encoding: 'utf8' },
        (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
      );
    });

  it('sends a test message and exits 0', async () => {
    const run = await notify('ops');
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('sent a test message to ops (HTTP 200)\n');
    expect(run.status).toBe(0);
    const [request] = capture.requests;
    expect(request?.path).toBe('/services/T0/B0/hook-secret');
    expect(request?.body).toMatchObject({ text: 'Test message from sloguard to ops' });
  });

  it('exits 1 when the target refuses it, without printing the URL', async () => {
    capture.respond(() => ({ status: 404 }));
    const run = await notify('ops');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('test message to ops failed: HTTP 404: unavailable\n');
    expect(run.stderr).not.toContain('hook-secret');
  });

  it('exits 64 for a target the config does not name', async () => {
    const run = await notify('nope');
    expect(run.status).toBe(64);
    expect(run.stderr).toBe('no notification target named "nope" (targets: ops)\n');
  });
});
