/**
 * What the gate benches measure, started the same way for each: a real `sloguard serve` with one SLO on Zipkin
 * spans, and the bare fastify baseline (bench/bareFastify.mjs) in its own process answering the same JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../test/helpers/ports.js';
import { stopChild } from '../test/helpers/process.js';
import { SloguardProcess } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { waitFor } from '../test/helpers/wait.js';
import { AS_IN_PRODUCTION, envInt } from './method.js';

/** OpenTelemetry's batch span processor exports at most 512 spans per request; Zipkin reporters similar. */
export const SPANS_PER_BATCH = envInt('BENCH_SPANS_PER_BATCH', 500);

/** One batch of spans of the gated service, JSON v2, server spans with HTTP status tags (0.5% errors). */
function spanBatch(): string {
  const now = Date.now() * 1000;
  return JSON.stringify(
    Array.from({ length: SPANS_PER_BATCH }, (_, i) => ({
      traceId: (0x1000000000 + i).toString(16).padStart(16, '0'),
      id: (0x2000000000 + i).toString(16).padStart(16, '0'),
      kind: 'SERVER',
      name: 'get /home',
      timestamp: now - i * 100,
      duration: 2_000 + (i % 50) * 1_000,
      localEndpoint: { serviceName: 'web' },
      tags: {
        'http.method': 'GET',
        'http.route': '/home',
        'http.status_code': i % 200 === 0 ? '503' : '200',
      },
    })),
  );
}

/**
 * Posts span batches to `url` at `spansPerSecond` for `seconds`, or until `until` aborts (autocannon: a steady
 * load, not a measure).
 */
export function ingestSpans(
  url: string,
  seconds: number,
  spansPerSecond: number,
  until?: AbortSignal,
): Promise<autocannon.Result> {
  return new Promise((done, fail) => {
    const load = autocannon(
      {
        url: `${url}/api/v2/spans`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: spanBatch(),
        connections: 4,
        overallRate: spansPerSecond / SPANS_PER_BATCH,
        duration: seconds,
      },
      (error, result) => (error ? fail(error) : done(result)),
    );
    until?.addEventListener('abort', () => load.stop(), { once: true });
  });
}

/** A serving process under measurement. */
export interface Target {
  url: string;
  /** The serving process, whose CPU time per answer is reported: a figure the machine's load barely moves. */
  pid: number;
}

export interface GateService {
  sloguard: SloguardProcess;
  gate: Target;
  healthz: Target;
  cleanup(): Promise<void>;
}

/**
 * `sloguard serve` as in production (its default log level, answers not checked against their schemas), the
 * per-client rate limits lifted (they would refuse a load test from one address), with spans ingested until
 * the gate decides on them (before the first evaluation it answers for missing data, not a 2xx).
 * `command` (BENCH_GATE_COMMAND) runs another build, e.g. an older commit's, for a before/after figure.
 */
export async function startGateService(command = process.env.BENCH_GATE_COMMAND): Promise<GateService> {
  const dir = tempDir('sloguard-bench-gate-');
  dir.file(
    'web.yaml',
    `apiVersion: sloguard/v1
kind: SLO
metadata: { name: web-availability, service: web }
spec:
  indicator: { source: traces }
  objective: 99
  window: 28d
`,
  );
  const settings = tempDir('sloguard-bench-gate-config-');
  const config = settings.file(
    'sloguard.yaml',
    'rateLimits: { gatePerMinute: 10000000, ingestPerMinute: 10000000 }\n',
  );
  const removeFolders = () => {
    dir.cleanup();
    settings.cleanup();
  };
  let sloguard: SloguardProcess | undefined;
  try {
    sloguard = await SloguardProcess.start({
      definitions: dir.path,
      ...(command ? { command } : {}),
      env: {
        ...AS_IN_PRODUCTION,
        SLOGUARD_CONFIG: config,
        SLOGUARD_EVALUATION_INTERVAL: '5s',
        SLOGUARD_LOG_LEVEL: 'info',
        ...(process.env.BENCH_GATE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_GATE_NODE_OPTIONS } : {}),
      },
    });
    const { url } = sloguard;
    const gateUrl = `${url}/api/v1/gate?service=web&environment=production`;
    await ingestSpans(url, 6, 50_000);
    await waitFor('a gate decision on the spans', async () => (await fetch(gateUrl)).ok, {
      timeoutMs: 60_000,
    });
    const pid = sloguard.pid!;
    const started = sloguard;
    return {
      sloguard,
      gate: { url: gateUrl, pid },
      healthz: { url: `${url}/healthz`, pid },
      cleanup: async () => {
        await started.cleanup();
        removeFolders();
      },
    };
  } catch (error) {
    await sloguard?.cleanup();
    removeFolders();
    throw error;
  }
}

export interface BareServer extends Target {
  stop(): Promise<void>;
}

/** The baseline answering `answer` (the gate's own answer, so both sides send the same bytes). */
export async function startBareFastify(answer: unknown): Promise<BareServer> {
  const dir = tempDir('sloguard-bench-bare-');
  const answerFile = dir.file('answer.json', JSON.stringify(answer));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [join(import.meta.dirname, 'bareFastify.mjs'), String(port), answerFile],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}/bare`;
  const stop = async () => {
    await stopChild(child);
    dir.cleanup();
  };
  try {
    await waitFor('bare fastify', async () => {
      if (child.exitCode !== null) throw new Error(`bare server exited with ${child.exitCode}`);
      return (await fetch(url)).ok;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid: child.pid!, stop };
}
