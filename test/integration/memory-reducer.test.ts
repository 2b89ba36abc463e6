import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { stopChild } from '../helpers/process.js';
import { CLI, type ServiceOptions, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const cleanups = cleanupsAfterEach();

/** What `--trace-gc` prints for a GC started by V8's memory reducer. */
const REDUCER_GC = 'Mark-Compact (reduce)';
/** Requests of the burst, and how many are in flight at once. */
const BURST_REQUESTS = 3_000;
const BURST_CONCURRENCY = 8;

/**
 * A plain node process that allocates, then idles: V8's memory reducer shrinks its heap about 8 s later
 * (`--gc-memory-reducer-start-delay-ms`). It is the clock of the tests below: when its reducer GC has run,
 * the service's isolates, whose burst ended before it started, have had as long.
 */
function reducerClock(): { output: () => string } {
  const child = spawn(
    process.execPath,
    [
      '--trace-gc',
      '-e',
      'let a = []; for (let i = 0; i < 3e5; i++) a.push({ i }); a = []; setInterval(() => {}, 1000);',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanups.push(async () => {
    await stopChild(child);
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { output: () => output };
}

/** The line the preload writes after the main isolate's first traced collection. */
const MAIN_MARK = 'main isolate traced above';

/**
 * `sloguard serve` with `--trace-gc` turned on by a preload (NODE_OPTIONS takes `--require`, not V8 flags), so it
 * runs with exactly the node arguments it is given otherwise: every isolate's collections go to stdout, each line
 * led by `[pid:isolate]`. Before any worker starts, the preload allocates past the young generation's first size
 * (1 MiB), so the lines before its mark are the main isolate's.
 */
async function tracedService(options: ServiceOptions = {}): Promise<SloguardProcess> {
  const dir = tempDir('sloguard-reducer-');
  cleanups.push(() => dir.cleanup());
  const preload = dir.file(
    'trace-gc.cjs',
    `require('node:v8').setFlagsFromString('--trace-gc');
let young = [];
for (let i = 0; i < 2e5; i++) young.push({ i });
young = undefined;
process.stdout.write('${MAIN_MARK}\\n');
`,
  );
  const service = await SloguardProcess.start({ ...options, env: { NODE_OPTIONS: `--require ${preload}` } });
  cleanups.push(() => service.cleanup());
  return service;
}

/** The main isolate's traced collections in the service's output. */
function mainIsolateTrace(service: SloguardProcess): string[] {
  const lines = service.logs.join('').split('\n');
  const isolate = lines
    .slice(0, lines.indexOf(MAIN_MARK))
    .map((line) => /^\[\d+:0x[0-9a-f]+\]/.exec(line)?.[0])
    .find((prefix) => prefix !== undefined);
  expect(isolate, 'a collection traced before the mark').toBeDefined();
  return lines.filter((line) => line.startsWith(isolate!));
}

/** A burst of reads that allocates on the main thread (routing, SQLite rows, JSON); then the service idles. */
async function allocationBurst(service: SloguardProcess): Promise<void> {
  const paths = ['/api/v1/slos', '/api/v1/slos/checkout-availability'];
  let next = 0;
  await Promise.all(
    Array.from({ length: BURST_CONCURRENCY }, async () => {
      for (let request = next++; request < BURST_REQUESTS; request = next++) {
        const response = await fetch(`${service.url}${paths[request % paths.length]}`);
        expect(response.status, `${paths[request % paths.length]}: ${await response.clone().text()}`).toBe(
          200,
        );
        await response.arrayBuffer();
      }
    }),
  );
}

describe('sloguard serve and V8 memory reducer', () => {
  it('runs no heap-shrinking GC in any isolate, the main one included, when the service goes quiet after a burst', async () => {
    const service = await tracedService();
    await allocationBurst(service);
    const clock = reducerClock();
    await waitFor('the plain process to run its memory-reducer GC', () =>
      clock.output().includes(REDUCER_GC),
    );
    const main = mainIsolateTrace(service);
    // The main isolate's trace goes on past the burst (so an absent reducer line means something), and no
    // isolate ran a reducing GC.
    expect(main.filter((line) => line.includes('Scavenge')).length).toBeGreaterThan(1);
    expect(service.logs.join('')).not.toContain(REDUCER_GC);
    expect(service.logs.join('')).not.toContain('node started without');
  });

  it('runs them on the main thread when node is started without the flags (what the command line prevents)', async () => {
    const dir = tempDir('sloguard-plain-node-');
    cleanups.push(() => dir.cleanup());
    const command = dir.file('plain-sloguard', `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(command, 0o755);
    const service = await tracedService({ command });
    await allocationBurst(service);
    // The run-time setting serve falls back to does not hold the main isolate's reducer off.
    // Seen 21-40 s after the burst on a loaded machine; V8's watchdog bounds it at 100 s.
    await waitFor(
      'a memory-reducer GC in the main isolate',
      () => mainIsolateTrace(service).some((line) => line.includes(REDUCER_GC)),
      { timeoutMs: 100_000 },
    );
    expect(service.logs.join('')).toContain(
      'node started without --gc-memory-reducer-start-delay-ms=3600000',
    );
  });
});
