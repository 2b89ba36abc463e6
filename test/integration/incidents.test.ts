import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingest, SHOP_SLOS, startAlertingSloguard, ticks } from '../helpers/alertScenario.js';
import { CaptureServer } from '../helpers/capture.js';
import { runCli } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

/** shop-availability with a runbook and an owner of its own. */
const SLOS = SHOP_SLOS.replace(
  '  window: 28d\n',
  '  window: 28d\n  runbook: https://runbooks.example.com/shop\n  owner: team-shop\n',
);

interface Incident {
  id: string;
  started_at: string;
  detected_at: string;
  resolved_at: string | null;
  severity: string;
  budget_consumed: number;
  runbook: string | null;
  owner: string | null;
  episodes: Array<{ id: string; escalations: Array<{ severity: string }> }>;
}

describe('incidents from ingested traffic in a real sloguard, across a kill and restart', () => {
  let capture: CaptureServer;
  let cleanups: Array<() => Promise<void>>;
  beforeEach(async () => {
    capture = await CaptureServer.start();
    cleanups = [];
  });
  afterEach(async () => {
    for (const cleanup of cleanups) await cleanup();
    await capture.stop();
  });

  it('keeps one incident through a restart mid-episode, with its escalation, spend and runbook', async () => {
    const { service, cleanup } = await startAlertingSloguard(
      `  targets:\n    chat: { kind: webhook, url: "${capture.url}/hooks/chat" }\n`,
      SLOS,
    );
    cleanups.push(cleanup);
    const incidents = async () =>
      (await service.json<{ incidents: Incident[]; total: number }>('/api/v1/incidents?service=shop')).body;

    await ingest(service, 96, 4); // 4% errors at 99%: 4× burn, a ticket
    await waitFor('the ticket', () => capture.accepted().length >= 1);
    const opened = await incidents();
    expect(opened).toMatchObject({ total: 1, incidents: [{ severity: 'ticket', resolved_at: null }] });
    const metrics = await fetch(`${service.url}/metrics`).then((r) => r.text());
    expect(metrics).toContain('sloguard_incidents_open{service="shop"} 1\n');

    await service.stop('SIGKILL');
    await service.restart();
    await ingest(service, 70, 30); // 34 of 200 fail: 17×, a page
    await waitFor('the escalation', () => capture.accepted().length >= 2);
    await ingest(service, 4000, 0); // 34 of 4,200: every tier stops
    await waitFor('the resolve', () => capture.accepted().length >= 3);
    await ticks(service, 2);

    const {
      incidents: [incident],
      total,
    } = await incidents();
    expect(total).toBe(1);
    expect(incident!.id).toBe(opened.incidents[0]!.id);
    expect(incident!.episodes).toHaveLength(1);
    expect(incident!.episodes[0]!.escalations.map((e) => e.severity)).toEqual(['page']);
    expect(incident).toMatchObject({
      severity: 'page',
      runbook: 'https://runbooks.example.com/shop',
      owner: 'team-shop',
    });
    expect(incident!.resolved_at).not.toBeNull();
    expect(Date.parse(incident!.started_at)).toBeLessThanOrEqual(Date.parse(incident!.detected_at));
    // The window holds 34 bad of 4,200 at 99%: 42 allowed; the burn began with none spent.
    expect(incident!.budget_consumed).toBeCloseTo(34 / 42, 9);
    const resolve = capture.accepted().at(-1)!.body as {
      alerts: Array<{ annotations: Record<string, string> }>;
    };
    expect(resolve.alerts.at(-1)!.annotations).toMatchObject({
      runbook_url: 'https://runbooks.example.com/shop',
      owner: 'team-shop',
    });
    expect(resolve.alerts.at(-1)!.annotations.description).toContain('spent 81.0% of the error budget');

    // The CLI passes the commit time to the gate; the release marker keeps it for the lead time.
    const gate = await runCli(
      [
        'gate',
        '--service',
        'shop',
        '--env',
        'production',
        '--sha',
        'abc123',
        '--commit-at',
        '2026-11-23T09:00:00Z',
        '--format',
        'json',
      ],
      { SLOGUARD_URL: service.url },
    );
    expect(gate.code, gate.stderr).toBe(0); // 19% of the budget left: a warn, which passes
    const { deployments } = (
      await service.json<{ deployments: Array<{ version: string; commit_at: string | null }> }>(
        '/api/v1/deployments?service=shop',
      )
    ).body;
    expect(deployments).toMatchObject([{ version: 'abc123', commit_at: '2026-11-23T09:00:00.000Z' }]);
  });
});
