import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { stopChild } from '../helpers/process.js';
import { CLI, SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const cleanups = cleanupsAfterEach();

/** What `--trace-gc` prints for a GC started by V8's memory reducer. */
const REDUCER_GC = 'Mark-Compact (reduce)';

/**
 * A plain node process that allocates, then idles: V8's memory reducer shrinks its heap about 8 s later
 * (`--gc-memory-reducer-start-delay-ms`). It is the clock of the test below: when its reducer GC has run,
 * the service's isolates, started earlier, have had as long.
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

describe('sloguard serve and V8 memory reducer', () => {
  it('runs no heap-shrinking GC when the service goes quiet (it would land on the first requests after a burst)', async () => {
    const dir = tempDir('sloguard-reducer-');
    cleanups.push(() => dir.cleanup());
    const command = dir.file(
      'traced-sloguard',
      `#!/bin/sh\nexec "${process.execPath}" --trace-gc "${CLI}" "$@"\n`,
    );
    chmodSync(command, 0o755);
    const service = await SloguardProcess.start({ command, until: 'ready' });
    cleanups.push(() => service.cleanup());
    const clock = reducerClock();

    await waitFor('the plain process to run its memory-reducer GC', () =>
      clock.output().includes(REDUCER_GC),
    );
    const traced = service.logs.join('');
    // The trace is there (so an absent reducer line means something), and the service's isolates ran none.
    expect(traced).toContain('Scavenge');
    expect(traced).not.toContain(REDUCER_GC);
  });
});
