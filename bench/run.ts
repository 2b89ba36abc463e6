/**
 * `npm run bench`: runs every bench/*.bench.ts (or those whose name contains an argument: `npm run bench --
 * gate`) one after another, each printing its figures beside baselines measured in the same rounds
 * (bench/method.ts). Each bench must exit on its own; one still running after BENCH_TIMEOUT_MINUTES is
 * killed and counted as failed, so the run always reaches its end. Benches never run in `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { envInt, loadText } from './method.js';

const folder = import.meta.dirname;
const wanted = process.argv.slice(2);
const timeoutMs = envInt('BENCH_TIMEOUT_MINUTES', 60) * 60_000;
const benches = readdirSync(folder)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => wanted.length === 0 || wanted.some((name) => file.includes(name)))
  .sort();

let failed = 0;
for (const bench of benches) {
  process.stdout.write(`\n=== ${bench} (${new Date().toISOString()}, ${loadText()})\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(folder, bench)], {
    stdio: 'inherit',
    timeout: timeoutMs,
    killSignal: 'SIGTERM',
  });
  if (run.status !== 0) {
    failed += 1;
    process.stdout.write(
      `*** ${bench} failed: ${run.error?.message ?? `exit ${run.status ?? run.signal}`}\n`,
    );
  }
}
process.exitCode = failed > 0 ? 1 : 0;
