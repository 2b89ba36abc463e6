/**
 * Do objects made by spreading outlive the young generation where the same objects written as literals do not?
 * (issue #23: the gate's verdicts and decisions were spread, and about 0.6 KB of each answer was promoted.)
 * Makes verdict- and decision-shaped objects both ways, each dropped at once, and reports the bytes per call
 * that a sampling heap profile keeps when it drops what minor GCs collect (two minor GCs before it stops).
 *
 *   node --expose-gc bench/spreadPromotion.mjs            (add --trace-gc-nvp to see `promoted=` per scavenge)
 */
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();
const statuses = [{ name: 'web-availability' }];

function spread(i) {
  const base = {
    statuses: [...statuses],
    stale: false,
    fromLastRun: false,
    mode: 'enforce',
    wouldBlock: false,
    exemption: null,
    override: null,
    frozen: false,
  };
  const verdict = { ...base, decision: 'allow', reason: `all ${i} SLOs` };
  return { ...verdict, id: `id-${i}`, decidedAtMs: Date.now(), request: statuses };
}

function literal(i) {
  const v = {
    decision: 'allow',
    reason: `all ${i} SLOs`,
    statuses: [...statuses],
    stale: false,
    fromLastRun: false,
    mode: 'enforce',
    wouldBlock: false,
    exemption: null,
    override: null,
    frozen: false,
  };
  return {
    decision: v.decision,
    reason: v.reason,
    statuses: v.statuses,
    stale: v.stale,
    fromLastRun: v.fromLastRun,
    mode: v.mode,
    wouldBlock: v.wouldBlock,
    exemption: v.exemption,
    override: v.override,
    frozen: v.frozen,
    id: `id-${i}`,
    decidedAtMs: Date.now(),
    request: statuses,
  };
}

let sink = 0;
/** `calls` objects, with some other garbage per call and a turn of the event loop every few, as requests make. */
async function make(build, calls) {
  for (let i = 0; i < calls; i++) {
    sink += build(i).reason.length;
    for (let j = 0; j < 50; j++) sink += [j, { j }].length;
    if (i % 5 === 0) await new Promise((turn) => setImmediate(turn));
  }
}

const CALLS = 50_000;
for (const build of [spread, literal, spread, literal]) {
  await make(build, 20_000);
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  });
  await make(build, CALLS);
  globalThis.gc({ type: 'minor' });
  globalThis.gc({ type: 'minor' });
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let kept = 0;
  const walk = (node) => {
    if (node.callFrame.functionName === build.name) kept += node.selfSize;
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  console.log(`${build.name}: ${(kept / CALLS).toFixed(0)} bytes per call not collected by scavenges`);
}
session.disconnect();
// Uses what was made, so the compiler cannot drop it.
if (sink < 0) console.log(sink);
