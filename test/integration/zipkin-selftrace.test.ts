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

const INGEST_TOKEN = 'tracer-secret-0123456789';
const READ_TOKEN = 'reader-secret-0123456789';
const AUTH = `
auth:
  tokens:
    - { name: tracer, token: "env:TEST_INGEST_TOKEN", scopes: [ingest] }
    - { name: reader, token: "env:TEST_READ_TOKEN", scopes: [read] }
`;

interface SloView {
  good: number;
  valid: number;
}

/** A sloguard tracing itself (`self`), exporting every 200 ms so several rounds pass within a test. */
function selfTraced(
  options: { config?: string; env?: Record<string, string>; headers?: Record<string, string> } = {},
) {
  const definitions = tempDir('sloguard-selftrace-');
  const settings = tempDir('sloguard-selftrace-config-');
  const state = { service: undefined as SloguardProcess | undefined };
  beforeAll(async () => {
    definitions.file('own.yaml', SLOS);
    const config: Record<string, string> =
      options.config === undefined ? {} : { SLOGUARD_CONFIG: settings.file('sloguard.yaml', options.config) };
    state.service = await SloguardProcess.start({
      definitions: definitions.path,
      env: { SLOGUARD_TRACING_URL: 'self', OTEL_BSP_SCHEDULE_DELAY: '200', ...config, ...options.env },
    });
  });
  afterAll(async () => {
    await state.service?.cleanup();
    definitions.cleanup();
    settings.cleanup();
  });
  const service = () => state.service!;
  const sli = async (name: string) =>
    (await service().json<SloView>(`/api/v1/slos/${name}`, { headers: options.headers ?? {} })).body;
  return { service, sli };
}

/**
 * Own spans reach the count through the batch exporter, the span-parsing threads (idle class: on a CI machine
 * whose cores the parallel suite keeps busy they wait their turn) and an evaluation tick: generous on purpose.
 */
const COUNTED = { timeoutMs: 60_000 };
/** Room for two such waits in one test. */
const TEST_MS = 150_000;

describe('self-tracing pointed at sloguard itself', () => {
  const { service, sli } = selfTraced();

  it(
    'watches its own routes from its own spans, without tracing its own exports',
    async () => {
      for (let i = 0; i < 5; i++) expect((await fetch(`${service().url}/healthz`)).status).toBe(200);
      await waitFor(
        'own /healthz spans to be counted',
        async () => (await sli('own-health')).valid >= 5,
        COUNTED,
      );
      expect(await sli('own-health')).toMatchObject({ good: 5, valid: 5 });
      // The polls above were traced too, under the route template fastify matched.
      await waitFor(
        'own /api/v1/slos/:name spans',
        async () => (await sli('own-slo-reads')).valid > 0,
        COUNTED,
      );
      // Several export rounds later, the exports themselves are still not counted: no trace loop.
      const rounds = Date.now() + 1_500;
      await waitFor('more export rounds', () => Date.now() > rounds);
      expect(await sli('own-collector')).toMatchObject({ valid: 0 });
    },
    TEST_MS,
  );

  it(
    'still traces spans other clients send to the collector',
    async () => {
      const response = await fetch(`${service().url}/api/v2/spans`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[]',
      });
      expect(response.status).toBe(202);
      await waitFor(
        'the client POST to be counted',
        async () => (await sli('own-collector')).valid === 1,
        COUNTED,
      );
    },
    TEST_MS,
  );
});

describe('self-tracing with auth tokens configured', () => {
  const traced = selfTraced({
    config: AUTH,
    env: {
      TEST_INGEST_TOKEN: INGEST_TOKEN,
      TEST_READ_TOKEN: READ_TOKEN,
      SLOGUARD_TRACING_TOKEN: INGEST_TOKEN,
    },
    headers: { authorization: `Bearer ${READ_TOKEN}` },
  });

  it(
    'exports with SLOGUARD_TRACING_TOKEN, so its own spans get past auth',
    async () => {
      expect((await fetch(`${traced.service().url}/api/v1/slos/own-health`)).status).toBe(401);
      for (let i = 0; i < 3; i++) expect((await fetch(`${traced.service().url}/healthz`)).status).toBe(200);
      await waitFor(
        'own /healthz spans past auth',
        async () => (await traced.sli('own-health')).valid >= 3,
        COUNTED,
      );
      expect(await traced.sli('own-health')).toMatchObject({ good: 3, valid: 3 });
    },
    TEST_MS,
  );
});
