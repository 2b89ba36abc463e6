import { join } from 'node:path';
import type { Config } from '../../src/config/config.js';
import { nginxLine, testApp } from './app.js';
import { tempDir } from './tmp.js';

/**
 * One service `web` with one availability SLO (99.9%) and a GatePolicy that observes in staging. The gate
 * tests judge the policy on a handful of requests, so the SLO judges its budget from the first event
 * (`minValidEvents: 1`); the default minimum has tests of its own (test/http/low-traffic.test.ts).
 */
export const GATE_DEFINITIONS = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: web-availability, service: web }
spec:
  indicator: { source: loadbalancer }
  objective: 99.9
  window: 28d
  minValidEvents: 1
---
apiVersion: sloguard/v1
kind: GatePolicy
metadata: { name: web-gate }
spec:
  service: web
  environments:
    staging: { mode: observe }
`;

/** Sent with every ingest of `traffic`; tests that configure tokens give it the `ingest` scope. */
export const INGEST_TOKEN = 'ingest-token-0123456789';

/** An in-process app over GATE_DEFINITIONS (or others), on its own (or a given) database. */
export async function gateApp(
  overrides: Partial<Config> = {},
  definitions = GATE_DEFINITIONS,
  appOptions: Parameters<typeof testApp>[2] = {},
) {
  const dir = tempDir('sloguard-gate-defs-');
  dir.file('web.yaml', definitions);
  const ctx = await testApp({ definitionsPath: dir.path, ...overrides }, {}, appOptions);
  return {
    ...ctx,
    definitionsDir: dir.path,
    /** Ingests `good` and `bad` requests of `web` ending at `atMs`, then evaluates every SLO. */
    async traffic(good: number, bad: number, atMs?: number, nowMs?: number) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/lb?format=nginx&service=web',
        payload: webLines(good, bad, atMs),
        headers: { authorization: `Bearer ${INGEST_TOKEN}` },
      });
      if (response.statusCode !== 202) throw new Error(`ingest failed: ${response.body}`);
      return ctx.sloguard.evaluator.evaluateAll(nowMs);
    },
    async close() {
      await ctx.close();
      dir.cleanup();
    },
  };
}

export const databaseIn = (dir: string) => join(dir, 'gate.db');

/** Access-log lines for `web`: `good` answers 200 and `bad` 503, spread over the 50 s before `atMs`. */
export function webLines(good: number, bad: number, atMs = Date.now() - 1_000): string {
  const line = (i: number, status: number) => nginxLine(atMs - (i % 50) * 1000, 'GET', '/home', status, 0.01);
  return [
    ...Array.from({ length: good }, (_, i) => line(i, 200)),
    ...Array.from({ length: bad }, (_, i) => line(i, 503)),
  ].join('\n');
}
