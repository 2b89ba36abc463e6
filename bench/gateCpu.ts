/**
 * CPU per answer of the gate's targets: the serving process's CPU time (all threads, from /proc) over paced
 * requests, divided by the answers. Steadier than latency on a loaded machine: a process waiting for a core
 * uses none. Targets take turns in each round; the ratios to bare fastify are taken within the round.
 *
 *   BENCH_ROUNDS=5 BENCH_CPU_REQUESTS=20000 npx tsx bench/gateCpu.ts
 *
 * BENCH_GATE_BEFORE_COMMAND (another `sloguard` executable, e.g. an older commit's build) adds its gate and its
 * /healthz (the per-request floor) as targets in the same rounds, and the within-round ratios of each to it: a
 * before/after figure that the machine's load moves no more than the two sides alike.
 */

import {
  type BareServer,
  type GateService,
  startBareFastify,
  startGateService,
  type Target,
} from './gateTargets.js';
import { processCpuMs as cpuMs, envInt, figure, loadText, rounds } from './method.js';
import { pacedLoad } from './paced.js';

const ROUNDS = rounds(5);
const REQUESTS = envInt('BENCH_CPU_REQUESTS', 20_000);
const RATE = envInt('BENCH_GATE_RATE', 2_000);

/** µs of the process's CPU per answer over REQUESTS paced requests. */
async function cpuPerAnswer({ url, pid }: Target): Promise<number> {
  const before = cpuMs(pid);
  const result = await pacedLoad(url, RATE, REQUESTS / RATE);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return ((cpuMs(pid) - before) * 1000) / result.latenciesMs.length;
}

const BEFORE_COMMAND = process.env.BENCH_GATE_BEFORE_COMMAND;

const service = await startGateService();
// Started inside the try: a target that fails to start must not leave the ones before it running.
let before: GateService | undefined;
let bare: BareServer | undefined;
try {
  before = BEFORE_COMMAND ? await startGateService(BEFORE_COMMAND) : undefined;
  const answer = await (await fetch(service.gate.url)).json();
  bare = await startBareFastify(answer);
  const targets: Record<string, Target> = {
    bare: bare,
    healthz: service.healthz,
    gate: service.gate,
    ...(before && { 'gate before': before.gate, 'healthz before': before.healthz }),
  };
  const names = Object.keys(targets);
  const results: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await pacedLoad(targets[name]!.url, RATE, 2);
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names.map((_, i) => names[(i + round) % names.length]!))
      results[name]!.push(await cpuPerAnswer(targets[name]!));
    process.stdout.write(
      `  round ${round + 1}: ${names.map((name) => `${name} ${results[name]!.at(-1)!.toFixed(1)}`).join(', ')} µs/answer (${loadText()})\n`,
    );
  }
  for (const name of names) figure(`${name} CPU per answer`, results[name]!, 'µs');
  for (const name of ['healthz', 'gate', ...(before ? ['healthz before', 'gate before'] : [])])
    figure(
      `${name} / bare CPU per answer, within rounds`,
      results[name]!.map((value, i) => value / results.bare![i]!),
      '×',
    );
  if (before)
    for (const name of ['healthz', 'gate'])
      figure(
        `${name} / ${name} before CPU per answer, within rounds`,
        results[name]!.map((value, i) => value / results[`${name} before`]![i]!),
        '×',
      );
} finally {
  await Promise.all([service.cleanup(), before?.cleanup(), bare?.stop()]);
}
