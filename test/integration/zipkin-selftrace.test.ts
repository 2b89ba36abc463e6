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
 * whose cores the parallel suite keeps busy they wait their turn) and an evaluation tick. The exporter sends
 * each batch once and drops it when the answer is late (its 10 s timeout, OTEL_EXPORTER_ZIPKIN_TIMEOUT), so a
 * wait that only polls can wait forever for spans already dropped: the traffic is sent again every round until
 * it is counted.
 */
const ROUND_MS = 10_000;
/** Enough rounds for a starved thread; each test has room for two such waits. */
const ROUNDS = 6;
const TEST_MS = 150_000;

/** Sends `traffic`, then polls `counted`; sends it again each round it is not yet counted. */
async function sendUntilCounted(what: string, traffic: () => Promise<void>, counted: () => Promise<boolean>) {
  for (let round = 1; ; round++) {
    await traffic();
    try {
      return await waitFor(what, counted, { timeoutMs: ROUND_MS, intervalMs: 100 });
    } catch (error) {
      if (round >= ROUNDS) throw error;
    }
  }
}

/** Requests /healthz `times` times, each answered 200. */
async function healthChecks(url: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) expect((await fetch(`${url}/healthz`)).status).toBe(200);
}

describe('self-tracing pointed at sloguard itself', () => {
  const { service, sli } = selfTraced();

  it(
    'watches its own routes from its own spans, without tracing its own exports',
    async () => {
      await sendUntilCounted(
        'own /healthz spans to be counted',
        () => healthChecks(service().url, 5),
        async () => (await sli('own-health')).valid >= 5,
      );
      const health = await sli('own-health');
      expect(health.good).toBe(health.valid);
      // The polls above were traced too, under the route template fastify matched; each poll sends more.
      await waitFor('own /api/v1/slos/:name spans', async () => (await sli('own-slo-reads')).valid > 0, {
        timeoutMs: ROUND_MS * ROUNDS,
      });
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
      let posts = 0;
      const clientPost = async () => {
        const response = await fetch(`${service().url}/api/v2/spans`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '[]',
        });
        expect(response.status).toBe(202);
        posts++;
      };
      await sendUntilCounted(
        'the client POST to be counted',
        clientPost,
        async () => (await sli('own-collector')).valid > 0,
      );
      const collector = await sli('own-collector');
      expect(collector.good).toBe(collector.valid);
      expect(collector.valid).toBeLessThanOrEqual(posts);
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
      await sendUntilCounted(
        'own /healthz spans past auth',
        () => healthChecks(traced.service().url, 3),
        async () => (await traced.sli('own-health')).valid >= 3,
      );
      const health = await traced.sli('own-health');
      expect(health.good).toBe(health.valid);
    },
    TEST_MS,
  );
});
