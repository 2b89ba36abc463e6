/**
 * Preloaded (`node -r`) into a process under measurement: SIGUSR2 starts a profile over the inspector, the
 * next SIGUSR2 stops it and writes it to PROFILE_OUT.N (N counting from 0). PROFILE_KIND=heap takes a
 * sampling heap profile that keeps what minor and major GCs collected (the allocation per answer, not what
 * survives); otherwise a CPU profile (`--cpu-prof` is not allowed in NODE_OPTIONS, and would cover the start
 * as well).
 */
const { Session } = require('node:inspector');
const { renameSync, writeFileSync } = require('node:fs');

const kind = process.env.PROFILE_KIND === 'heap' ? 'heap' : 'cpu';
const out = process.env.PROFILE_OUT;
const session = new Session();
session.connect();
const post = (method, params) =>
  new Promise((done, fail) =>
    session.post(method, params, (error, result) => (error ? fail(error) : done(result))),
  );

let running = false;
let taken = 0;
async function toggle() {
  running = !running;
  if (running && kind === 'heap') {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', {
      samplingInterval: 512,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    });
  } else if (running) {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 50 });
    await post('Profiler.start');
  } else {
    const { profile } = await post(kind === 'heap' ? 'HeapProfiler.stopSampling' : 'Profiler.stop');
    // Written under a temporary name first: the reader polls for the final one.
    const file = `${out}.${taken++}`;
    writeFileSync(`${file}.tmp`, JSON.stringify(profile));
    renameSync(`${file}.tmp`, file);
  }
}
process.on('SIGUSR2', () => {
  toggle().catch((error) => process.stderr.write(`profile: ${error.stack}\n`));
});
