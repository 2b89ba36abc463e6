/**
 * What a warm tick allocates and what its collections cost (issue #23, ticklag): `node --expose-gc --import tsx
 * bench/tickAllocation.ts <fixture folder>` (not a `.bench.ts`: a diagnosis, run by hand; the folder as
 * bench/ticklag.bench.ts keeps it, built there when missing; run on a copy). In process, the service's own
 * parts over the fixture (createSloguard, createApp: alerting and metrics listen to the evaluator): a first
 * evaluation, a warm tick, then TICK_ALLOCATION_TICKS warm ticks through `SloEvaluator.tick` (the service's
 * sliced path, statuses saved) with V8's sampling heap profiler counting everything allocated (collected or
 * not) and a `gc` PerformanceObserver timing each collection. Prints bytes per SLO by allocating function,
 * the scavenges and their pauses, each tick's wall and CPU time, and how long each step of its publishing took.
 */

import { copyFileSync, existsSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { type Config, loadConfig } from '../src/config/config.js';
import { createApp, createSloguard } from '../src/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { buildDatabase, writeDefinitions } from './curvesData.js';
import { envInt, formatNumber, loadText } from './method.js';

const folder = process.argv[2];
if (!folder) throw new Error('usage: bench/tickAllocation.ts <fixture folder>');
const TICKS = envInt('TICK_ALLOCATION_TICKS', 3);
const SLOS = envInt('TICK_ALLOCATION_SLOS', 10_000);
/**
 * TICK_ALLOCATION_LIVE=1: count only what is still live when the ticks end (what survived their collections,
 * a scavenge's cost) instead of everything allocated.
 */
const LIVE_ONLY = process.env.TICK_ALLOCATION_LIVE === '1';
const MINUTE_RETENTION_DAYS = 1;
if (!existsSync(join(folder, 'source.db'))) {
  const point = { slos: SLOS, series: SLOS };
  buildDatabase(join(folder, 'source.db'), point, Math.floor(Date.now() / 60_000), MINUTE_RETENTION_DAYS);
  writeDefinitions(join(folder, 'slo-definitions'), point);
}
// A copy: the statuses saved here must not reach a service running on the same fixture.
const work = tempDir('sloguard-tick-allocation-');
copyFileSync(join(folder, 'source.db'), join(work.path, 'sloguard.db'));

// The service's own parts (createSloguard, createApp): the evaluator with every listener a service hangs on it.
const config: Config = {
  ...loadConfig({ SLOGUARD_LOG_LEVEL: 'silent', SLOGUARD_CHECK_RESPONSES: '0' }),
  databasePath: join(work.path, 'sloguard.db'),
  definitionsPath: join(folder, 'slo-definitions'),
  minuteRetentionDays: MINUTE_RETENTION_DAYS,
};
const sloguard = createSloguard(config);
const { app } = await createApp(sloguard);
const evaluator = sloguard.evaluator;
const slos = evaluator.current().length;
/**
 * How long each step of a tick's publishing holds the loop: the statuses made current, then each listener
 * (the gate's freezes, metrics; alerting is the service's, not wired here). Both are private to the evaluator,
 * so they are wrapped through a cast; the steps of one tick are one piece when they run in the same turn.
 */
type Step = (...args: unknown[]) => unknown;
const parts = evaluator as unknown as { makeCurrent: Step; listeners: Step[] };
const steps: number[][] = [];
const timed =
  (step: Step, index: number): Step =>
  (...args) => {
    const started = performance.now();
    const result = step(...args);
    steps[index] ??= [];
    steps[index].push(performance.now() - started);
    return result;
  };
parts.makeCurrent = timed(parts.makeCurrent.bind(evaluator), 0);
parts.listeners.forEach((listener, i) => {
  parts.listeners[i] = timed(listener, i + 1);
});
const nowMs = Date.now();
await evaluator.tick(nowMs);
await evaluator.tick(nowMs + 60_000);
for (const step of steps) step.length = 0;

const pauses: Array<{ kind: number; ms: number }> = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    pauses.push({
      kind: (entry as PerformanceEntry & { detail: { kind: number } }).detail.kind,
      ms: entry.duration,
    });
});
observer.observe({ entryTypes: ['gc'] });
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: !LIVE_ONLY,
  includeObjectsCollectedByMinorGC: !LIVE_ONLY,
});
const ticks: Array<{ wallMs: number; cpuMs: number }> = [];
for (let t = 0; t < TICKS; t++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await evaluator.tick(nowMs + (t + 2) * 60_000);
  ticks.push({ wallMs: performance.now() - started, cpuMs: process.cpuUsage(cpu).user / 1000 });
}
const { profile } = await session.post('HeapProfiler.stopSampling');
// The observer is told of collections a turn later.
await new Promise((turn) => setImmediate(turn));
observer.disconnect();
session.disconnect();

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}
const bySite = new Map<string, number>();
let total = 0;
const walk = (node: ProfileNode) => {
  const frame = node.callFrame;
  const site = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${frame.lineNumber + 1}`;
  bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child);
};
walk(profile.head as unknown as ProfileNode);
const perTick = (bytes: number) => bytes / TICKS;
// PerformanceObserver's gc kinds: 1 minor (scavenge), 2 major, 4 incremental, 8 weak callbacks.
const scavenges = pauses.filter((p) => p.kind === 1).map((p) => p.ms);
const others = pauses.filter((p) => p.kind !== 1).map((p) => p.ms);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
process.stdout.write(
  `${slos.toLocaleString('en-US')} SLOs, ${TICKS} warm ticks (${loadText()}):\n` +
    `  publishing, ms a tick: statuses made current ${steps[0]!.map(formatNumber).join(', ')}; ${steps
      .slice(1)
      .map((times, i) => `listener ${i + 1} ${times.map(formatNumber).join(', ')}`)
      .join('; ')}\n` +
    `  ${LIVE_ONLY ? 'live at the end' : 'allocated'} ${formatNumber(perTick(total) / 1e6)} MB a tick, ${formatNumber(perTick(total) / slos / 1024)} KB an SLO\n` +
    `  scavenges ${formatNumber(scavenges.length / TICKS)} a tick, ${formatNumber(sum(scavenges) / TICKS)} ms a tick, longest ${formatNumber(Math.max(0, ...scavenges))} ms; other collections ${others.length} (${formatNumber(sum(others))} ms)\n` +
    `  ticks wall ${ticks.map((t) => formatNumber(t.wallMs)).join(', ')} ms; CPU ${ticks.map((t) => formatNumber(t.cpuMs)).join(', ')} ms; RSS ${formatNumber(process.memoryUsage().rss / 1e6)} MB, peak ${formatNumber(process.resourceUsage().maxRSS / 1e3)} MB\n` +
    '  by allocating function (MB a tick):\n',
);
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 20))
  process.stdout.write(`    ${formatNumber(perTick(bytes) / 1e6).padStart(6)}  ${site}\n`);
await app.close();
sloguard.close();
work.cleanup();
