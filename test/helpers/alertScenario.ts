import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { nginxLine } from './app.js';
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

/** Waits until the evaluator has run `ticks` more times (the alert decisions happen on ticks). */
export async function ticks(
  service: SloguardProcess,
  count: number,
  slo = 'shop-availability',
): Promise<void> {
  const evaluatedAt = async () =>
    Date.parse((await service.json<{ evaluated_at: string }>(`/api/v1/slos/${slo}`)).body.evaluated_at);
  const start = await evaluatedAt();
  await waitFor(`${count} evaluation ticks`, async () => (await evaluatedAt()) >= start + count * 1000);
}
