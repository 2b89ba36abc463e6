import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, startAlertingSloguard, ticks } from '../helpers/alertScenario.js';
import { nginxLine } from '../helpers/app.js';
import { type CapturedRequest, CaptureServer } from '../helpers/capture.js';
import type { SloguardProcess } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

interface SloView {
  name: string;
  objective: number;
  window: string;
  sli: number | null;
}

interface WebhookBody {
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

/** `<kind> <slo>` for every message the chat target took. */
function messages(capture: CaptureServer): string[] {
  return capture.accepted().map((request: CapturedRequest) => {
    const last = (request.body as WebhookBody).alerts.at(-1)!;
    const kind = last.annotations.summary!.startsWith('[RESOLVED]') ? 'resolved' : 'firing';
    return `${kind} ${last.labels.slo}`;
  });
}

function slo(name: string, objective: number, window: string): string {
  return `apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${name}, service: shop, labels: { team: shop } }
spec:
  indicator: { source: loadbalancer }
  objective: ${objective}
  window: ${window}
`;
}

/** Objective 150 is out of range: the file is refused at line 6, column 14. */
const BROKEN = slo('shop-broken', 150, '28d');

async function names(service: SloguardProcess): Promise<string[]> {
  const { body } = await service.json<{ slos: SloView[] }>('/api/v1/slos');
  return body.slos.map((s) => s.name).sort();
}

async function metric(service: SloguardProcess, name: string): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

type Trigger = 'SIGHUP' | 'http' | 'file change';

/** How soon a reload shows: a tick (1 s) after it on an idle machine, with room for a busy CI machine. */
const RELOADED_MS = 20_000;

/**
 * One service per trigger, each with a capture chat target and traffic failing 4% of the time (a ticket
 * for any 99% SLO over it). An SLO file is added, changed and removed, then a broken file is written.
 */
describe.each<Trigger>(['SIGHUP', 'http', 'file change'])('reload by %s', (trigger) => {
  let capture: CaptureServer;
  let service: SloguardProcess;
  let cleanup: () => Promise<void>;
  const extra = `shop-extra-${trigger.replace(' ', '-').toLowerCase()}`;

  const reload = async (): Promise<number | undefined> => {
    if (trigger === 'SIGHUP') process.kill(service.pid!, 'SIGHUP');
    if (trigger !== 'http') return undefined;
    const response = await fetch(`${service.url}/-/reload`, { method: 'POST' });
    return response.status;
  };

  beforeAll(async () => {
    capture = await CaptureServer.start();
    const started = await startAlertingSloguard(
      `  repeatInterval: 1h
  retryBackoff: 200ms
  targets:
    chat: { kind: webhook, url: "${capture.url}/hooks/chat" }
`,
      undefined,
      { SLOGUARD_WATCH_DEFINITIONS: String(trigger === 'file change'), SLOGUARD_LOG_LEVEL: 'info' },
    );
    service = started.service;
    cleanup = started.cleanup;
    await ingest(service, 96, 4);
    await waitFor('the first ticket', () => messages(capture).includes('firing shop-availability'));
  });

  afterAll(async () => {
    await cleanup();
    await capture.stop();
  });

  it('adds, changes and removes an SLO; the removed SLO resolves its alert exactly once', async () => {
    const file = join(service.definitions, `${extra}.yaml`);
    writeFileSync(file, slo(extra, 99, '28d'));
    const added = Date.now();
    expect(await reload()).toBe(trigger === 'http' ? 200 : undefined);
    // A status from the traffic stored before the SLO existed, within a tick of the reload.
    const status = await waitFor(
      'the new SLO',
      async () => {
        const { status, body } = await service.json<SloView>(`/api/v1/slos/${extra}`);
        return status === 200 && body;
      },
      { timeoutMs: RELOADED_MS },
    );
    expect(Date.now() - added).toBeLessThan(RELOADED_MS);
    expect(status.sli).toBeCloseTo(0.96, 6);
    expect(await names(service)).toEqual([extra, 'shop-availability'].sort());
    await waitFor('its ticket', () => messages(capture).includes(`firing ${extra}`));

    // 2.7× burn over 30 days: still a ticket, so no message until the SLO goes. (100 events judge a 98.5%
    // budget; at 99.2% they would be too few, and an insufficient-data SLO resolves its alert.)
    writeFileSync(file, slo(extra, 98.5, '30d'));
    await reload();
    await waitFor(
      'the new objective and window',
      async () => {
        const { body } = await service.json<SloView>(`/api/v1/slos/${extra}`);
        return Math.abs(body.objective - 0.985) < 1e-9 && body.window === '30d';
      },
      { timeoutMs: RELOADED_MS },
    );

    rmSync(file);
    await reload();
    await waitFor('the SLO gone', async () => !(await names(service)).includes(extra), {
      timeoutMs: RELOADED_MS,
    });
    await waitFor('its resolve', () => messages(capture).includes(`resolved ${extra}`));
    await ticks(service, 3);
    const mine = messages(capture).filter((m) => m.endsWith(` ${extra}`));
    expect(mine).toEqual([`firing ${extra}`, `resolved ${extra}`]);
    const resolve = capture.accepted().find((r) => {
      const last = (r.body as WebhookBody).alerts.at(-1)!;
      return last.labels.slo === extra && last.status === 'resolved';
    })!;
    const resolved = (resolve.body as WebhookBody).alerts.at(-1)!;
    expect(resolved.annotations.summary).toBe(`[RESOLVED] ${extra}: no longer defined`);
    // The labels it fired with: Alertmanager matches the resolve to the same alert.
    expect(resolved.labels).toMatchObject({ team: 'shop', service: 'shop' });
    expect(messages(capture).filter((m) => m === 'firing shop-availability')).toHaveLength(1);
    if (trigger !== 'http') {
      const reloads = new RegExp(`"trigger":"${trigger}"`, 'g');
      await waitFor('the reloads in the log', () => (service.logs.join('').match(reloads) ?? []).length >= 3);
    }
  });

  it('refuses a broken set whole: the old set keeps serving, the reload metric reads 0', async () => {
    const before = await names(service);
    expect(await metric(service, 'sloguard_config_last_reload_successful')).toBe(1);
    const successAt = await metric(service, 'sloguard_config_last_reload_success_timestamp_seconds');
    expect(successAt).toBeGreaterThan(0);
    const file = join(service.definitions, 'broken.yaml');
    writeFileSync(file, BROKEN);
    const answer = await reload();
    if (answer !== undefined) expect(answer).toBe(422);
    await waitFor(
      'the refusal',
      async () => (await metric(service, 'sloguard_config_last_reload_successful')) === 0,
      { timeoutMs: RELOADED_MS },
    );
    // Log lines come through a pipe: they may arrive after the metric changed.
    const refused = new RegExp(`reload refused: ${file}:6:\\d+`);
    await waitFor('the refusal in the log', () => refused.test(service.logs.join('')));
    await ticks(service, 2);
    expect(await names(service)).toEqual(before);
    expect(await metric(service, 'sloguard_config_last_reload_success_timestamp_seconds')).toBe(successAt);
    expect((await service.json('/api/v1/slos/shop-availability')).status).toBe(200);

    rmSync(file);
    await reload();
    await waitFor(
      'the next reload to work',
      async () => (await metric(service, 'sloguard_config_last_reload_successful')) === 1,
      { timeoutMs: RELOADED_MS },
    );
    expect(await metric(service, 'sloguard_config_last_reload_success_timestamp_seconds')).toBeGreaterThan(
      successAt,
    );
  });

  it('re-reads notification targets and routes from sloguard.yaml', async () => {
    const routed = `${extra}-paged`;
    writeFileSync(
      join(service.definitions, '..', 'sloguard.yaml'),
      `publicUrl: https://sloguard.example.com
notifications:
  repeatInterval: 1h
  retryBackoff: 200ms
  targets:
    chat: { kind: webhook, url: "${capture.url}/hooks/chat" }
    pager: { kind: webhook, url: "${capture.url}/hooks/pager" }
  routes:
    - { slo: ${routed}, targets: [pager] }
`,
    );
    // The file watch follows the definitions folder only: the SLO file written last makes its reload.
    writeFileSync(join(service.definitions, `${routed}.yaml`), slo(routed, 99, '28d'));
    expect(await reload()).toBe(trigger === 'http' ? 200 : undefined);
    await waitFor('the routed alert', () => messages(capture).includes(`firing ${routed}`));
    const paths = capture
      .accepted()
      .filter((r) => JSON.stringify(r.body).includes(routed))
      .map((r) => r.path);
    expect(paths).toEqual(['/hooks/pager']);
  });

  it.runIf(trigger === 'SIGHUP')('starts tailing a log file added under collectors', async () => {
    const valid = async () =>
      (await service.json<{ valid: number }>('/api/v1/slos/shop-availability')).body.valid;
    const before = await valid();
    const log = join(service.definitions, '..', 'access.log');
    const at = Date.now() - 1000;
    writeFileSync(
      log,
      `${Array.from({ length: 30 }, () => nginxLine(at, 'GET', '/api/items', 200, 0.01)).join('\n')}\n`,
    );
    writeFileSync(
      join(service.definitions, '..', 'sloguard.yaml'),
      `publicUrl: https://sloguard.example.com
collectors:
  - { path: "${log}", format: nginx, source: tailed, service: shop, pollInterval: 100ms }
`,
    );
    await reload();
    await waitFor('the tailed lines counted', async () => (await valid()) === before + 30);
  });
});
