import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { nginxLine } from './app.js';
import type { CapturedRequest, CaptureServer } from './capture.js';
import { SloguardProcess } from './service.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

/** A 99% availability SLO: with all traffic recent, 4% errors burn 4× (ticket) and 17% burn 17× (page). */
export const SHOP_SLOS = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-availability, service: shop, labels: { team: shop } }
spec:
  indicator: { source: loadbalancer }
  objective: 99
  window: 28d
`;

/**
 * A `notifications` block (for startAlertingSloguard or a config file) with one webhook target `chat` at the
 * capture server, retried quickly.
 */
export function chatNotifications(captureUrl: string, repeatInterval = '1h'): string {
  return `  repeatInterval: ${repeatInterval}
  retryBackoff: 200ms
  maxRetryBackoff: 1s
  targets:
    chat: { kind: webhook, url: "${captureUrl}/hooks/chat" }
`;
}

/** The Alertmanager-style webhook body sloguard sends (src/alert/notifiers/webhook.ts). */
export interface WebhookBody {
  status: string;
  receiver: string;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

/** What a delivered message says: its kind (from the summary sloguard writes) and its level. */
export function describeMessage(request: CapturedRequest): string {
  const last = (request.body as WebhookBody).alerts.at(-1)!;
  const summary = last.annotations.summary!;
  const kind = summary.startsWith('[RESOLVED]')
    ? 'resolved'
    : summary.includes('(escalated from')
      ? 'escalated'
      : summary.includes('(still firing)')
        ? 'repeat'
        : 'firing';
  return `${kind} ${last.labels.condition}`;
}

/** The SLO alert messages the chat took (not notices such as an override's), in the order it took them. */
export function alertMessages(capture: CaptureServer): CapturedRequest[] {
  return capture
    .accepted()
    .filter((request) =>
      (request.body as WebhookBody).alerts.some((alert) => alert.labels.alertname === 'SLOErrorBudget'),
    );
}

/**
 * How many times the chat took each alert change, keyed `<slo> <condition> <firing|resolved>` (an alert's
 * identity is its label set, as in Alertmanager; an escalation carries the lower level's resolve with it).
 */
export function deliveredAlertKeys(capture: CaptureServer): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of alertMessages(capture))
    for (const alert of (request.body as WebhookBody).alerts) {
      const key = `${alert.labels.slo} ${alert.labels.condition} ${alert.status}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  return counts;
}

/** A real sloguard process with these SLOs and this `notifications` block (YAML, indented two spaces). */
export async function startAlertingSloguard(
  notifications: string,
  slos = SHOP_SLOS,
  env: Record<string, string> = {},
) {
  const dir = tempDir('sloguard-alerts-');
  const definitions = join(dir.path, 'slos');
  mkdirSync(definitions);
  writeFileSync(join(definitions, 'shop.yaml'), slos);
  const config = dir.file(
    'sloguard.yaml',
    `publicUrl: https://sloguard.example.com\nnotifications:\n${notifications}`,
  );
  const service = await SloguardProcess.start({ definitions, env: { ...env, SLOGUARD_CONFIG: config } });
  return {
    service,
    async cleanup() {
      await service.cleanup();
      dir.cleanup();
    },
  };
}

/** Posts `good` 200s and `bad` 500s for service shop, stamped a moment ago. */
export async function ingest(service: SloguardProcess, good: number, bad: number): Promise<void> {
  const at = Date.now() - 500;
  const lines = [
    ...Array.from({ length: good }, () => nginxLine(at, 'GET', '/api/items', 200, 0.01)),
    ...Array.from({ length: bad }, () => nginxLine(at, 'GET', '/api/items', 500, 0.01)),
  ];
  const response = await fetch(`${service.url}/api/v1/ingest/lb?format=nginx&source=edge&service=shop`, {
    method: 'POST',
    body: `${lines.join('\n')}\n`,
  });
  expect(response.status).toBe(202);
}

/** When the service last evaluated `slo` (a follower replica: the time of the shared status it shows). */
export async function evaluatedAt(service: SloguardProcess, slo = 'shop-availability'): Promise<number> {
  return Date.parse((await service.json<{ evaluated_at: string }>(`/api/v1/slos/${slo}`)).body.evaluated_at);
}

/** Waits until the evaluator has run `ticks` more times (the alert decisions happen on ticks). */
export async function ticks(
  service: SloguardProcess,
  count: number,
  slo = 'shop-availability',
): Promise<void> {
  const start = await evaluatedAt(service, slo);
  await waitFor(
    `${count} evaluation ticks`,
    async () => (await evaluatedAt(service, slo)) >= start + count * 1000,
  );
}
