/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) one after another, each
 * printing its figure beside a baseline measured in the same run. Benches never run in `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const folder = import.meta.dirname;
const wanted = process.argv.slice(2);
const benches = readdirSync(folder)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => wanted.length === 0 || wanted.some((name) => file.includes(name)))
  .sort();

let failed = 0;
for (const bench of benches) {
  process.stdout.write(`\n=== ${bench}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(folder, bench)], { stdio: 'inherit' });
  if (run.status !== 0) failed += 1;
}
process.exitCode = failed > 0 ? 1 : 0;
