import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NGINX_BINARY, NginxServer, requireBinary } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { CLI, ROOT, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { type PlannedRequest, sendPlanned, Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

interface SloBody {
  good: number;
  valid: number;
  sli: number | null;
  state: string;
  budget: { allowed: number; consumed: number; remaining_ratio: number | null };
}

/**
 * The whole path once, for real: a Debian nginx in front of an upstream answering chosen statuses and delays,
 * its access log in the documented format pushed to a real sloguard process, then SLIs, budgets, the gate and
 * the CLI checked against what this test computes from the requests it made.
 */
/**
 * An upload declaring 17 MB, past the 16 MB limit. The answer comes from the Content-Length alone and the
 * server then closes the connection (more body would follow), so only the body's start is sent: a client
 * still writing the rest races that close and may meet EPIPE instead of reading the answer.
 */
function oversizedUpload(url: string): Promise<{ status: number; error: string }> {
  return new Promise((resolve, reject) => {
    const upload = httpRequest(url, { method: 'POST', headers: { 'content-length': 17 * 1024 * 1024 } });
    let answered = false;
    upload.on('response', async (response) => {
      answered = true;
      let text = '';
      for await (const chunk of response) text += String(chunk);
      upload.destroy();
      resolve({ status: response.statusCode ?? 0, error: (JSON.parse(text) as { error: string }).error });
    });
    // Once answered, the server's close may still surface as a write error of the unsent rest.
    upload.on('error', (error) => {
      if (!answered) reject(error);
    });
    upload.write('x'.repeat(64 * 1024));
  });
}

/**
 * How many of these access-log lines nginx timed at `ms` or less ($request_time, the last field). The plan's
 * fast requests take 5 ms, but on a CI machine whose cores are busy nginx can time one of them past a latency
 * threshold: the SLO is judged on what was logged, so the expected count is read from the log too.
 */
function timedWithin(lines: string[], ms: number): number {
  return lines.filter((line) => Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000 <= ms).length;
}

describe.skipIf(!requireBinary(NGINX_BINARY, 'nginx'))('nginx → sloguard → gate', () => {
  let upstream: Upstream;
  let nginx: NginxServer;
  let sloguard: SloguardProcess;

  // user-profile: 200 requests; 8 answer 503 (bad for availability), 30 take 700 ms (bad for the 500 ms SLO).
  const profilePlan: PlannedRequest[] = Array.from({ length: 200 }, (_, i) => ({
    method: 'GET',
    path: `/profile/${1000 + i}`,
    status: i % 25 === 0 ? 503 : i % 10 === 3 ? 404 : 200,
    delayMs: i % 20 === 7 || i % 20 === 11 || i % 20 === 15 ? 700 : 5,
  }));
  // checkout: healthy.
  const checkoutPlan: PlannedRequest[] = Array.from({ length: 60 }, (_, i) => ({
    method: i % 2 === 0 ? 'POST' : 'GET',
    path: i % 2 === 0 ? '/api/orders' : `/api/orders/${i}`,
    status: i % 2 === 0 ? 201 : 200,
    delayMs: 5,
  }));

  // The shipped SLOs, judged from the first event: this test checks the numbers of a few hundred requests,
  // fewer than a 99.95% budget needs before one bad event is allowed (low-traffic.test.ts tests that minimum).
  const definitions = tempDir('sloguard-foundation-');
  for (const file of readdirSync(join(ROOT, 'slo-definitions'))) {
    const text = readFileSync(join(ROOT, 'slo-definitions', file), 'utf8');
    definitions.file(
      file,
      text.replace(/^ {2}objective: .*$/gm, (line) => `${line}\n  minValidEvents: 1`),
    );
  }

  beforeAll(async () => {
    upstream = await Upstream.start();
    nginx = await NginxServer.start({ upstreamPort: upstream.port });
    sloguard = await SloguardProcess.start({ definitions: definitions.path });
  });

  afterAll(async () => {
    definitions.cleanup();
    await sloguard?.cleanup();
    await nginx?.stop();
    await upstream?.stop();
  });

  const slo = async (name: string) => (await sloguard.json<SloBody>(`/api/v1/slos/${name}`)).body;
  /** Profile requests nginx logged within the 500 ms of profile-latency. */
  let profileFast = 0;
  const gateCli = (service: string, url = sloguard.url) =>
    spawnSync(process.execPath, [CLI, 'gate', '--service', service, '--url', url], { encoding: 'utf8' });

  it('computes the SLIs and budget that the requests sent imply', async () => {
    const profileStatuses = await sendPlanned(nginx.url, profilePlan);
    expect(profileStatuses).toEqual(profilePlan.map((r) => r.status));
    await sendPlanned(nginx.url, checkoutPlan);

    const lines = await waitFor('nginx to log every request', () => {
      const log = nginx.accessLog().trim().split('\n').filter(Boolean);
      return log.length === profilePlan.length + checkoutPlan.length && log;
    });
    const profileLines = lines.filter((line) => line.includes('/profile/'));
    const checkoutLines = lines.filter((line) => line.includes('/api/orders'));
    for (const [service, body] of [
      ['user-profile', profileLines.join('\n')],
      ['checkout', checkoutLines.join('\n')],
    ] as const) {
      const response = await fetch(
        `${sloguard.url}/api/v1/ingest/lb?format=nginx&source=edge&service=${service}`,
        {
          method: 'POST',
          body,
        },
      );
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ rejected: 0, skipped: 0 });
    }

    const failures = profilePlan.filter((r) => r.status >= 500).length;
    const slow = profilePlan.filter((r) => r.delayMs > 500).length;
    expect(failures).toBe(8);
    expect(slow).toBe(30);
    const availability = await waitFor('the evaluator to see every profile request', async () => {
      const body = await slo('profile-availability');
      return body.valid === profilePlan.length && body;
    });
    expect(availability.good).toBe(profilePlan.length - failures);
    expect(availability.sli).toBeCloseTo((profilePlan.length - failures) / profilePlan.length, 12);
    expect(availability.budget.allowed).toBeCloseTo(0.0005 * profilePlan.length, 12);
    expect(availability.budget.consumed).toBe(failures);
    expect(availability.budget.remaining_ratio).toBeCloseTo(1 - failures / (0.0005 * profilePlan.length), 9);
    expect(availability.state).toBe('exhausted');

    // The 30 slow requests (700 ms) are past 500 ms however busy the machine; on an idle one, nothing else is.
    profileFast = timedWithin(profileLines, 500);
    expect(profileFast).toBeLessThanOrEqual(profilePlan.length - slow);
    const latency = await slo('profile-latency');
    expect(latency.valid).toBe(profilePlan.length);
    expect(latency.good).toBe(profileFast);
    expect(latency.sli).toBeCloseTo(profileFast / profilePlan.length, 12);
    expect(latency.state).toBe('exhausted');

    const checkout = await waitFor('checkout data', async () => {
      const body = await slo('checkout-availability');
      return body.valid === checkoutPlan.length && body;
    });
    expect(checkout).toMatchObject({ good: checkoutPlan.length, sli: 1, state: 'ok' });
    const submit = await slo('checkout-submit-latency');
    const submits = checkoutLines.filter((line) => line.includes('"POST /api/orders?'));
    expect(submits).toHaveLength(checkoutPlan.length / 2);
    expect(submit).toMatchObject({ valid: submits.length, good: timedWithin(submits, 800) });
  });

  it('denies the exhausted service (HTTP 423, CLI exit 2) and allows the healthy one (200, exit 0)', async () => {
    const deny = await sloguard.json<{ decision: string; allowed: boolean }>(
      '/api/v1/gate?service=user-profile',
    );
    expect(deny.status).toBe(423);
    expect(deny.body).toMatchObject({ decision: 'deny', allowed: false });
    const allow = await sloguard.json<{ decision: string }>('/api/v1/gate?service=checkout');
    expect(allow.status).toBe(200);
    expect(allow.body.decision).toBe('allow');

    const denied = gateCli('user-profile');
    expect(denied.status).toBe(2);
    expect(denied.stdout).toContain('DENY user-profile');
    const allowed = gateCli('checkout');
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toContain('ALLOW checkout');
  });

  it('survives bad input: each answer is the documented JSON, and the process keeps serving', async () => {
    const json = { 'content-type': 'application/json' };
    const attempts: Array<[string, RequestInit, number, string]> = [
      ['/api/v1/ingest/lb?format=nope&service=x', { method: 'POST', body: 'x' }, 400, 'invalid_query'],
      [
        '/api/v1/ingest/lb?format=nginx&service=x',
        { method: 'POST', body: 'x', headers: { 'content-encoding': 'gzip' } },
        400,
        'invalid_gzip',
      ],
      [
        '/api/v1/gate',
        { method: 'POST', body: '{"service": [1, {"deep": [[[[]]]]}]}', headers: json },
        400,
        'invalid_request',
      ],
      ['/api/v1/gate', { method: 'POST', body: '{', headers: json }, 400, 'invalid_json'],
      ['/api/v1/gate/decisions?from=yesterday', {}, 400, 'invalid_query'],
    ];
    for (const [path, init, status, error] of attempts) {
      const response = await fetch(`${sloguard.url}${path}`, init);
      expect([response.status, ((await response.json()) as { error: string }).error], path).toEqual([
        status,
        error,
      ]);
    }
    expect(await oversizedUpload(`${sloguard.url}/api/v1/ingest/lb?format=nginx&service=x`)).toEqual({
      status: 413,
      error: 'body_too_large',
    });
    // Garbage lines are not an error of the request: they are counted and reported in the 202.
    const garbage = await fetch(`${sloguard.url}/api/v1/ingest/lb?format=nginx&service=x`, {
      method: 'POST',
      body: '\u0000\uffff garbage\nmore garbage',
    });
    expect(garbage.status).toBe(202);
    expect(await garbage.json()).toMatchObject({ accepted: 0, rejected: 2 });
    expect((await fetch(`${sloguard.url}/healthz`)).status).toBe(200);
  });

  it('exits 4 when the gate cannot be reached', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const result = gateCli('checkout', nobody);
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('gate failed');
  });

  it('keeps every acknowledged figure across a restart', async () => {
    const before = await slo('profile-availability');
    await sloguard.stop();
    await sloguard.restart();
    const after = await waitFor('a fresh evaluation after restart', async () => {
      const body = await slo('profile-availability');
      return body.valid > 0 && body;
    });
    expect({ good: after.good, valid: after.valid, state: after.state }).toEqual({
      good: before.good,
      valid: before.valid,
      state: before.state,
    });
    expect((await slo('profile-latency')).good).toBe(profileFast);
  });
});
