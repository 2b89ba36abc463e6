/**
 * Where a service's RSS peaks at 10,000 SLOs (issue #23): `node --import tsx bench/memoryPhases.ts <fixture>`
 * (not a `.bench.ts`: a diagnosis, run by hand). Builds `bench/curvesData.ts`'s 10,000 SLOs over 10,000
 * series into <fixture> unless it is there, copies the database, starts `sloguard serve` (20 s interval)
 * and runs the phases the curves bench's service goes through: the first evaluation, a scrape, a tick, a
 * scrape, a tick, a scrape. The kernel's peak RSS (VmHWM) is reset before each phase (`clear_refs` 5), so each
 * phase's peak is its own; the RSS after it is printed too. MEMORY_PHASES_NODE_FLAGS (say `--trace-gc`, which
 * NODE_OPTIONS refuses) go to the service's node, through a wrapper script; its log goes to <fixture>/service.log.
 */
import { chmodSync, copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MINUTE_RETENTION_DAYS as MINUTE_RETENTION_DAYS } from '../src/config/config.js';
import { NODE_CLI_ARGS, SloguardProcess } from '../test/helpers/service.js';
import { waitFor } from '../test/helpers/wait.js';
import { buildDatabase, writeDefinitions } from './curvesData.js';
import { AS_IN_PRODUCTION, loadText, processMemoryBytes } from './method.js';

const fixture = process.argv[2];
if (!fixture) throw new Error('usage: bench/memoryPhases.ts <fixture folder>');
const point = { slos: 10_000, series: 10_000 };
const INTERVAL_S = 20;
const source = join(fixture, 'source.db');
const definitions = join(fixture, 'slo-definitions');
if (!existsSync(source)) {
  buildDatabase(source, point, Math.floor(Date.now() / 60_000), MINUTE_RETENTION_DAYS);
  writeDefinitions(definitions, point);
}
const databasePath = join(fixture, 'sloguard.db');
copyFileSync(source, databasePath);

const flags = process.env.MEMORY_PHASES_NODE_FLAGS;
const command = flags ? join(fixture, 'node.sh') : undefined;
if (command) {
  writeFileSync(command, `#!/bin/sh\nexec ${process.execPath} ${flags} ${NODE_CLI_ARGS.join(' ')} "$@"\n`);
  chmodSync(command, 0o755);
}
const service = await SloguardProcess.start({
  command,
  definitions,
  databasePath,
  readyTimeoutMs: 300_000,
  env: {
    ...AS_IN_PRODUCTION,
    SLOGUARD_LOG_LEVEL: 'info',
    SLOGUARD_EVALUATION_INTERVAL: `${INTERVAL_S}s`,
    SLOGUARD_MINUTE_RETENTION_DAYS: String(MINUTE_RETENTION_DAYS),
  },
});
const pid = service.pid!;
const mb = (field: 'VmRSS' | 'VmHWM') => Math.round(processMemoryBytes(pid, field) / 1e6);
const rows: string[] = [];
const note = (phase: string) => {
  rows.push(`| ${phase} | ${mb('VmHWM')} | ${mb('VmRSS')} |`);
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
};

/** The newest evaluation's time, read from one SLO's status (not from /metrics, which would be a scrape). */
const evaluatedAt = async () => {
  const answer = (await service.json<{ slos: { evaluated_at: string }[] }>('/api/v1/slos?limit=1')).body;
  return answer.slos[0]!.evaluated_at;
};
const tick = async () => {
  const last = await evaluatedAt();
  await waitFor('the next tick', async () => (await evaluatedAt()) !== last, {
    timeoutMs: 10 * INTERVAL_S * 1000,
    intervalMs: 250,
  });
};
const scrape = async () => {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  if (!text.includes('sloguard_slo_sli_ratio{slo="slo-9999"')) throw new Error('scrape without slo-9999');
};

try {
  note('start and first evaluation');
  for (const [phase, run] of [
    ['scrape 1', scrape],
    ['tick 1', tick],
    ['scrape 2', scrape],
    ['tick 2', tick],
    ['scrape 3', scrape],
  ] as const) {
    await run();
    note(phase);
  }
  process.stdout.write(`${loadText()}\n| phase | peak RSS, MB | RSS after, MB |\n|---|---|---|\n`);
  process.stdout.write(`${rows.join('\n')}\n`);
} finally {
  writeFileSync(join(fixture, 'service.log'), service.logs.join(''));
  await service.cleanup();
}
