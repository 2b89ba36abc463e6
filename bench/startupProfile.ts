/**
 * Where start-up goes: runs `sloguard serve` under `node --cpu-prof` on a fixture (bench/startupFixture.ts)
 * until its first evaluation is done, stops it, and sums the profile's CPU time by start-up phase (the time
 * inside each phase's function, children included) and by where the code comes from.
 *
 * `npx tsx bench/startupProfile.ts FIXTURE_DIR [CLI]` (CLI: another build's dist/cli/main.js, for a before/after).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import { stopChild } from '../test/helpers/process.js';
import { CLI, ROOT } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { waitFor } from '../test/helpers/wait.js';
import { AS_IN_PRODUCTION, loadText } from './method.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Start-up phases, by the function that runs each (inclusive CPU time). */
const PHASES: Array<[string, string]> = [
  ['definitions: read, parse and check the SLO files', 'loadDefinitionSet'],
  ['store: open and migrate', 'openDatabase'],
  ['series caps: every series read', 'SeriesLimiter'],
  ['statuses the last run stored, loaded', 'loadAll'],
  ['HTTP app built', 'buildApp'],
  ['first evaluation (all slices)', 'tickNow'],
  ['first evaluation (builds before #23, in one piece)', 'evaluateAll'],
  ['statuses saved', 'publish'],
];

/** Where self time goes, by the first matching part of the script's URL. */
const ORIGINS: Array<[string, RegExp]> = [
  ['yaml (npm)', /node_modules\/yaml\//],
  ['typebox (npm)', /node_modules\/typebox\//],
  ['fastify and plugins (npm)', /node_modules\/(@fastify|fastify|avvio|find-my-way|light-my-request)/],
  ['opentelemetry (npm)', /node_modules\/@opentelemetry\//],
  ['other npm packages', /node_modules\//],
  ['sloguard definitions', /dist\/definitions\//],
  ['sloguard evaluate and sources', /dist\/(evaluate|sources|schedule)\//],
  ['sloguard store', /dist\/store\//],
  ['sloguard, other', /dist\//],
  ['node internals', /^node:/],
];

function summarise(profile: Profile): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries())
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const phase = new Map<string, number>();
  const origin = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    total += us;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      for (const [label, fn] of PHASES)
        if (name === fn && !seen.has(label)) {
          seen.add(label);
          phase.set(label, (phase.get(label) ?? 0) + us);
        }
    }
    const { url, functionName } = byId.get(id)!.callFrame;
    const from =
      ORIGINS.find(([, pattern]) => pattern.test(url))?.[0] ??
      (url === '' ? `(${functionName || 'native'})` : 'other');
    origin.set(from, (origin.get(from) ?? 0) + us);
  }
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  // Samples are taken on the wall clock while the main thread runs: a loaded machine stretches them all alike.
  process.stdout.write(`main thread sampled: ${ms(total)} (${loadText()})\nby phase (inclusive):\n`);
  for (const [label] of PHASES) process.stdout.write(`  ${ms(phase.get(label) ?? 0)}  ${label}\n`);
  process.stdout.write('by origin (self):\n');
  for (const [label, us] of [...origin].sort((a, b) => b[1] - a[1]).slice(0, 14))
    process.stdout.write(`  ${ms(us)}  ${label}\n`);
}

const [fixture, cli = CLI] = process.argv.slice(2);
if (!fixture) throw new Error('usage: startupProfile.ts FIXTURE_DIR [CLI]');
const out = tempDir('sloguard-startup-profile-');
try {
  const port = await freePort();
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${out.path}`, cli, 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...AS_IN_PRODUCTION,
      SLOGUARD_PORT: String(port),
      SLOGUARD_DATABASE: join(fixture, 'sloguard.db'),
      SLOGUARD_DEFINITIONS: join(fixture, 'slo-definitions'),
      SLOGUARD_LOG_LEVEL: 'warn',
      SLOGUARD_WATCH_DEFINITIONS: 'false',
    },
    stdio: 'ignore',
  });
  await waitFor(
    'the first evaluation',
    async () => {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}`);
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await response.json()) as { statuses?: string };
      // A build from before #23 has no `statuses`: it was ready only once it had evaluated.
      return response.ok && (body.statuses ?? 'evaluated') === 'evaluated';
    },
    { timeoutMs: 300_000, intervalMs: 20 },
  );
  await stopChild(child);
  const file = readdirSync(out.path).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  summarise(JSON.parse(readFileSync(join(out.path, file), 'utf8')) as Profile);
} finally {
  out.cleanup();
}
