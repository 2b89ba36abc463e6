/**
 * Where the gate's answers spend their CPU and allocate: a profile of the serving process (sloguard for the
 * gate and /healthz, the bare fastify baseline for comparison) over paced requests, summarised by function.
 *
 *   PROFILE_KIND=heap npx tsx bench/gateProfile.ts      # bytes allocated per answer (GC'd objects included)
 *   PROFILE_KIND=cpu npx tsx bench/gateProfile.ts       # µs of CPU samples per answer
 *
 * The profiles are kept in the printed folder (open them in Chrome's DevTools). Profiling itself costs CPU:
 * compare the targets with each other, and take CPU per answer from bench/gateCpu.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import { stopChild } from '../test/helpers/process.js';
import { NODE_CLI_ARGS } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { waitFor } from '../test/helpers/wait.js';
import { startGateService } from './gateTargets.js';
import { envInt, loadText } from './method.js';
import { pacedLoad } from './paced.js';

const KIND = process.env.PROFILE_KIND === 'heap' ? 'heap' : 'cpu';
const RATE = envInt('BENCH_GATE_RATE', 1_000);
const SECONDS = envInt('BENCH_PROFILE_SECONDS', 10);
const TOP = envInt('BENCH_PROFILE_TOP', 25);
const ROOT = join(import.meta.dirname, '..');
const PRELOAD = join(import.meta.dirname, 'profilePreload.cjs');

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}
interface CpuNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A frame as "function file:line", the file relative to node_modules or to the repository. */
function frameName({ functionName, url, lineNumber }: CallFrame): string {
  const file = url.replace(/^.*node_modules\//, '').replace(`file://${ROOT}/`, '');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

/** Self figures by function per answer, largest first, one line each with its share of the total. */
function top(byFrame: Map<string, number>, total: number, unit: string, answers: number): string {
  const line = ([name, value]: [string, number]) => {
    const share = ((100 * value) / total).toFixed(1);
    return `  ${(value / answers).toFixed(1).padStart(8)} ${unit}  ${share.padStart(5)}%  ${name}`;
  };
  return [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(line)
    .join('\n');
}

function summariseHeap(file: string, answers: number): string {
  const byFrame = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode) => {
    const name = frameName(node.callFrame);
    byFrame.set(name, (byFrame.get(name) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) walk(child);
  };
  walk((JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head);
  return `${(total / answers).toFixed(0)} bytes allocated per answer\n${top(byFrame, total, 'B', answers)}`;
}

function summariseCpu(file: string, answers: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  // The profiler's own start and stop (the preload's inspector calls) are no part of an answer.
  const profiler = new Set<number>();
  const mark = (id: number) => {
    profiler.add(id);
    for (const child of nodes.get(id)!.children ?? []) mark(child);
  };
  for (const node of profile.nodes) if (node.callFrame.url.endsWith('profilePreload.cjs')) mark(node.id);
  const byFrame = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id)!;
    if (node.callFrame.functionName === '(idle)' || profiler.has(id)) return;
    const us = profile.timeDeltas[i] ?? 0;
    const name = frameName(node.callFrame);
    byFrame.set(name, (byFrame.get(name) ?? 0) + us);
    total += us;
  });
  const perAnswer = (total / answers).toFixed(1);
  const summary = `${perAnswer} µs of samples per answer (idle and the profiler's own calls excluded)`;
  return `${summary}\n${top(byFrame, total, 'µs', answers)}`;
}

/** Runs the load on `url` with the process `pid` profiling, then reads profile number `n`. */
async function profiled(name: string, url: string, pid: number, out: string, n: number): Promise<void> {
  await pacedLoad(url, RATE, 2);
  process.kill(pid, 'SIGUSR2');
  const result = await pacedLoad(url, RATE, SECONDS);
  process.kill(pid, 'SIGUSR2');
  const file = `${out}.${n}`;
  await waitFor(`${name}'s profile`, () => existsSync(file));
  const answers = result.latenciesMs.length;
  const summary = KIND === 'heap' ? summariseHeap(file, answers) : summariseCpu(file, answers);
  process.stdout.write(
    `\n${name} (${answers} answers, ${result.non2xx} non-2xx, ${loadText()}): ${summary}\n`,
  );
}

// Not removed at the end: the profiles are the output.
const dir = tempDir('sloguard-profile-');
const env = `PROFILE_KIND=${KIND}`;
const wrapper = dir.file(
  'sloguard.sh',
  `#!/bin/sh\n${env} PROFILE_OUT=${join(dir.path, 'sloguard')} exec ${process.execPath} -r ${PRELOAD} ${NODE_CLI_ARGS.join(' ')} "$@"\n`,
);
chmodSync(wrapper, 0o755);
process.stdout.write(`profiles in ${dir.path}\n`);
const service = await startGateService(wrapper);
let bare: ChildProcess | undefined;
try {
  const answer = await (await fetch(service.gate.url)).json();
  const answerFile = dir.file('answer.json', JSON.stringify(answer));
  const port = await freePort();
  bare = spawn(
    process.execPath,
    ['-r', PRELOAD, join(import.meta.dirname, 'bareFastify.mjs'), String(port), answerFile],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { PATH: process.env.PATH, PROFILE_KIND: KIND, PROFILE_OUT: join(dir.path, 'bare') },
    },
  );
  const bareUrl = `http://127.0.0.1:${port}/bare`;
  await waitFor('bare fastify', async () => (await fetch(bareUrl)).ok);
  await profiled('bare', bareUrl, bare.pid!, join(dir.path, 'bare'), 0);
  await profiled('healthz', service.healthz.url, service.healthz.pid, join(dir.path, 'sloguard'), 0);
  await profiled('gate', service.gate.url, service.gate.pid, join(dir.path, 'sloguard'), 1);
} finally {
  await Promise.all([service.cleanup(), bare && stopChild(bare)]);
}
