/**
 * Start-up (issue #23): `sloguard serve` as a whole process on a 28-day, 10,000-series database with 10,000
 * SLOs (bench/startupFixture.ts), timed from spawn to `/readyz` 200 and to the end of its first evaluation
 * (`/readyz` says `statuses: evaluated`), against a bare fastify started the same way in the same round
 * (spawn to its first 200). The service starts on the statuses its last run stored, as after any restart;
 * one start without them (a new database) is timed once. While the first evaluation runs, the gate is asked
 * every 50 ms: its slowest answer shows the evaluation yields to the event loop.
 *
 * Target: start to `/readyz` ≤ 5 s. `BENCH_ROUNDS` (default 5), `--series N` (default 10,000),
 * `BENCH_STARTUP_FIXTURE=DIR` reuses a fixture built before (`npx tsx bench/startupFixture.ts DIR`),
 * `--cli PATH` times another build.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVE_NODE_FLAGS } from '../src/cli/nodeFlags.js';
import { freePort } from '../test/helpers/ports.js';
import { stopChild } from '../test/helpers/process.js';
import { CLI, ROOT } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import {
  AS_IN_PRODUCTION,
  Comparison,
  figure,
  formatNumber,
  loadText,
  processCpuMs,
  rounds,
} from './method.js';
import { buildStartupFixture, type StartupFixture } from './startupFixture.js';

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '10000' },
    /** Another build's dist/cli/main.js, for a before/after (one from before #23 has no `statuses`). */
    cli: { type: 'string', default: CLI },
  },
});
const SERIES = Number(values.series);
const ROUNDS = rounds(5);
const POLL_MS = 10;
const READY_TIMEOUT_MS = 120_000;

/** The smallest fastify app, as plain JavaScript under the same node: the floor of any fastify service. */
const BARE = `import Fastify from 'fastify';
const app = Fastify();
app.get('/readyz', async () => ({ status: 'ready' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });`;

interface Started {
  child: ChildProcess;
  url: string;
  startedAt: number;
}

async function spawnOn(args: string[], env: NodeJS.ProcessEnv): Promise<Started> {
  const port = await freePort();
  const startedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), SLOGUARD_PORT: String(port), ...env },
    stdio: 'ignore',
  });
  return { child, url: `http://127.0.0.1:${port}`, startedAt };
}

/** Polls `/readyz` until `done` says so; milliseconds since spawn, and the process's CPU time then. */
async function until(
  started: Started,
  done: (body: { statuses?: string }) => boolean,
): Promise<{ ms: number; cpuMs: number }> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (started.child.exitCode !== null) throw new Error(`exited ${started.child.exitCode}`);
    try {
      const response = await fetch(`${started.url}/readyz`);
      if (response.ok && done((await response.json()) as { statuses?: string }))
        return { ms: performance.now() - started.startedAt, cpuMs: processCpuMs(started.child.pid!) };
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function bareStart(): Promise<{ ms: number; cpuMs: number }> {
  const started = await spawnOn(['--input-type=module', '-e', BARE], {});
  try {
    return await until(started, () => true);
  } finally {
    await stopChild(started.child);
  }
}

/** Asks the gate every 50 ms until `stop` resolves; the slowest answer in ms. */
async function gateWhile(url: string, stop: Promise<unknown>): Promise<{ asked: number; slowestMs: number }> {
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  let asked = 0;
  let slowestMs = 0;
  while (!done) {
    const at = performance.now();
    const response = await fetch(`${url}/api/v1/gate?service=svc-1&environment=production`);
    await response.arrayBuffer();
    slowestMs = Math.max(slowestMs, performance.now() - at);
    asked += 1;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { asked, slowestMs };
}

async function sloguardStart(fixture: StartupFixture) {
  const started = await spawnOn([...SERVE_NODE_FLAGS, values.cli, 'serve'], {
    ...AS_IN_PRODUCTION,
    SLOGUARD_DATABASE: fixture.databasePath,
    SLOGUARD_DEFINITIONS: fixture.definitionsPath,
    SLOGUARD_LOG_LEVEL: 'warn',
    SLOGUARD_WATCH_DEFINITIONS: 'false',
  });
  try {
    const ready = await until(started, () => true);
    // A build from before #23 has no `statuses`: it was ready only once it had evaluated.
    const evaluating = until(started, (body) => (body.statuses ?? 'evaluated') === 'evaluated');
    const gate = await gateWhile(started.url, evaluating);
    return { ready, evaluated: await evaluating, gate };
  } finally {
    await stopChild(started.child);
  }
}

async function main(): Promise<void> {
  const given = process.env.BENCH_STARTUP_FIXTURE;
  const dir = given ? undefined : tempDir('sloguard-bench-startup-');
  try {
    let fixture: StartupFixture;
    if (given && existsSync(join(given, 'sloguard.db'))) {
      fixture = {
        databasePath: join(given, 'sloguard.db'),
        definitionsPath: join(given, 'slo-definitions'),
        series: SERIES,
        endMs: 0,
      };
    } else {
      const building = performance.now();
      fixture = buildStartupFixture(given ?? dir!.path, { series: SERIES });
      process.stdout.write(
        `fixture: ${formatNumber(SERIES)} series × 28 days, ${formatNumber(SERIES)} SLOs, built in ${((performance.now() - building) / 1000).toFixed(1)} s (${loadText()})\n`,
      );
      // The first start has no stored statuses: ready only once it has evaluated every SLO.
      const first = await sloguardStart(fixture);
      figure('start to /readyz with no stored statuses (first start)', [first.ready.ms / 1000], 's');
    }
    const ready = new Comparison('start to /readyz', 's', 'bare fastify to listen', 'ours/baseline');
    const evaluated = new Comparison(
      'start to first evaluation done',
      's',
      'bare fastify to listen',
      'ours/baseline',
    );
    // CPU time is what the machine's load moves least: the same figures as process CPU seconds.
    const readyCpu = new Comparison('CPU to /readyz', 's', 'bare fastify CPU to listen', 'ours/baseline');
    const evaluatedCpu = new Comparison(
      'CPU to first evaluation done',
      's',
      'bare fastify CPU to listen',
      'ours/baseline',
    );
    const slowest: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const baseline = await bareStart();
      const ours = await sloguardStart(fixture);
      ready.add(ours.ready.ms / 1000, baseline.ms / 1000);
      evaluated.add(ours.evaluated.ms / 1000, baseline.ms / 1000);
      readyCpu.add(ours.ready.cpuMs / 1000, baseline.cpuMs / 1000);
      evaluatedCpu.add(ours.evaluated.cpuMs / 1000, baseline.cpuMs / 1000);
      slowest.push(ours.gate.slowestMs);
      process.stdout.write(
        `  gate during the first evaluation: ${ours.gate.asked} asked, slowest ${formatNumber(ours.gate.slowestMs)} ms\n`,
      );
    }
    for (const comparison of [ready, evaluated, readyCpu, evaluatedCpu]) comparison.print();
    figure('slowest gate answer during the first evaluation', slowest, 'ms');
  } finally {
    dir?.cleanup();
  }
}

await main();
