import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNotice } from '../../src/alert/message.js';
import { webhookPayload } from '../../src/alert/notifiers/webhook.js';
import { AlertmanagerServer, hasAlertmanager } from '../helpers/alertmanager.js';
import { ingest, SHOP_SLOS, startAlertingSloguard } from '../helpers/alertScenario.js';
import { CaptureServer } from '../helpers/capture.js';
import { waitFor } from '../helpers/wait.js';

interface AlertmanagerWebhook {
  version: string;
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: Array<{
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    generatorURL: string;
  }>;
}

/** Two SLOs of one service: a burn fires both, and Alertmanager groups them by service. */
const TWO_SLOS = `${SHOP_SLOS}---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-reads, service: shop }
spec:
  indicator: { source: loadbalancer, select: { method: GET } }
  objective: 99
  window: 28d
`;

describe.runIf(hasAlertmanager())('sloguard → a real Alertmanager → its webhook receiver', () => {
  let capture: CaptureServer;
  let alertmanager: AlertmanagerServer;
  let sloguard: Awaited<ReturnType<typeof startAlertingSloguard>>;

  beforeAll(async () => {
    capture = await CaptureServer.start();
    alertmanager = await AlertmanagerServer.start({ webhookUrl: `${capture.url}/am`, groupBy: ['service'] });
    sloguard = await startAlertingSloguard(
      `  repeatInterval: 1m
  targets:
    oncall: { kind: alertmanager, url: "${alertmanager.url}" }
`,
      TWO_SLOS,
    );
  });
  afterAll(async () => {
    await sloguard?.cleanup();
    await alertmanager?.stop();
    await capture?.stop();
  });

  const notifications = () => capture.accepted().map((request) => request.body as AlertmanagerWebhook);

  /** The SLO and state of the alerts of one severity in a notification, sorted. */
  const bySeverity = (notification: AlertmanagerWebhook, severity: string) =>
    notification.alerts
      .filter((alert) => alert.labels.severity === severity)
      .map((alert) => `${alert.labels.slo} ${alert.status}`)
      .sort();

  it('delivers both SLOs as one group, escalates ticket → page, then resolves them', async () => {
    await ingest(sloguard.service, 96, 4); // 4% errors: both SLOs open a ticket
    const ticket = await waitFor('a grouped ticket', () =>
      notifications().find((n) => n.status === 'firing' && n.alerts.length === 2),
    );
    expect(ticket.version).toBe('4');
    expect(ticket.groupLabels).toEqual({ service: 'shop' });
    expect(ticket.commonLabels).toMatchObject({
      alertname: 'SLOErrorBudget',
      service: 'shop',
      severity: 'ticket',
    });
    expect(ticket.alerts.map((alert) => alert.generatorURL).sort()).toEqual([
      'https://sloguard.example.com/slo/shop-availability',
      'https://sloguard.example.com/slo/shop-reads',
    ]);

    await ingest(sloguard.service, 70, 30); // 17% errors: both escalate to a page
    const page = await waitFor('the escalation', () =>
      notifications().find((n) => bySeverity(n, 'page').length === 2),
    );
    expect(bySeverity(page, 'page')).toEqual(['shop-availability firing', 'shop-reads firing']);
    // Each escalation resolves its SLO's ticket in the same post as its page; when the two SLOs escalate in
    // different group intervals, Alertmanager tells one resolve in an earlier notification than the other.
    const ticketsResolved = await waitFor('both tickets resolved', () => {
      const resolved = new Set(
        notifications()
          .flatMap((n) => bySeverity(n, 'ticket'))
          .filter((alert) => alert.endsWith(' resolved')),
      );
      return resolved.size === 2 ? [...resolved].sort() : undefined;
    });
    expect(ticketsResolved).toEqual(['shop-availability resolved', 'shop-reads resolved']);
    expect(page.alerts.find((a) => a.labels.severity === 'page')!.annotations.summary).toMatch(
      /^\[PAGE\] shop-(availability|reads): error budget burning fast \(escalated from warning\)$/,
    );
    const held = await alertmanager.alerts();
    expect(
      held.filter((alert) => alert.status.state === 'active').map((alert) => alert.labels.severity),
    ).toEqual(['page', 'page']);

    await ingest(sloguard.service, 20_000, 0); // 34 of 20,200 fail: well within the objective again
    const resolved = await waitFor('the resolved notification', () =>
      notifications().find((n) => n.status === 'resolved'),
    );
    expect(bySeverity(resolved, 'page')).toEqual(['shop-availability resolved', 'shop-reads resolved']);
    expect(notifications().filter((n) => n.status === 'resolved')).toHaveLength(1);
  });

  it("writes sloguard's own webhook target in the shape Alertmanager really sends", () => {
    const real = notifications()[0] as unknown as Record<string, unknown> & { alerts: object[] };
    const ours = webhookPayload(
      formatNotice('SloguardTest', 't', 'x', [], 'https://s.example.com', Date.now()),
      {
        target: 'r',
        publicUrl: 'https://s.example.com',
      },
    ).body as Record<string, unknown> & { alerts: object[] };
    expect(Object.keys(ours).sort()).toEqual(Object.keys(real).sort());
    expect(Object.keys(ours.alerts[0]!).sort()).toEqual(Object.keys(real.alerts[0]!).sort());
  });
});
