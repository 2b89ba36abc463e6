import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** sloguard's own SLOs, fed by its own traces. */
const SLOS = `
apiVersion: sloguard/v1
kind: SLO
metadata: { name: own-health, service: sloguard }
spec: { indicator: { source: traces, select: { route: /healthz, method: GET } }, objective: 99, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: own-slo-reads, service: sloguard }
spec: { indicator: { source: traces, select: { route: "/api/v1/slos/:name" } }, objective: 99, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: own-collector, service: sloguard }
spec: { indicator: { source: traces, select: { route: /api/v2/spans } }, objective: 99, window: 28d }
`;

interface SloView {
  good: number;
  valid: number;
}

let service: SloguardProcess;
const definitions = tempDir('sloguard-selftrace-');

beforeAll(async () => {
  definitions.file('own.yaml', SLOS);
  service = await SloguardProcess.start({
    definitions: definitions.path,
    // Export every 200 ms so several export rounds pass within the test.
    env: { SLOGUARD_TRACING_URL: 'self', OTEL_BSP_SCHEDULE_DELAY: '200' },
  });
});
afterAll(async () => {
  await service?.cleanup();
  definitions.cleanup();
});

const sli = async (name: string) => (await service.json<SloView>(`/api/v1/slos/${name}`)).body;

describe('self-tracing pointed at sloguard itself', () => {
  it('watches its own routes from its own spans, without tracing its own exports', async () => {
    for (let i = 0; i < 5; i++) expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    await waitFor('own /healthz spans to be counted', async () => (await sli('own-health')).valid >= 5);
    expect(await sli('own-health')).toMatchObject({ good: 5, valid: 5 });
    // The polls above were traced too, under the route template fastify matched.
    await waitFor('own /api/v1/slos/:name spans', async () => (await sli('own-slo-reads')).valid > 0);
    // Several export rounds later, the exports themselves are still not counted: no trace loop.
    const rounds = Date.now() + 1_500;
    await waitFor('more export rounds', () => Date.now() > rounds);
    expect(await sli('own-collector')).toMatchObject({ valid: 0 });
  });

  it('still traces spans other clients send to the collector', async () => {
    const response = await fetch(`${service.url}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[]',
    });
    expect(response.status).toBe(202);
    await waitFor('the client POST to be counted', async () => (await sli('own-collector')).valid === 1);
  });
});
