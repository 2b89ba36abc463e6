import { afterEach, describe, expect, it } from 'vitest';
import { SloguardProcess } from '../helpers/service.js';

// Issue 15, finding 1's tail: close-with-grace listened for SIGILL (and SIGSEGV, SIGABRT, SIGBUS), so V8's
// fatal trap returned into a handler and fired again forever; an outside SIGILL even exited 0. A fatal signal
// must kill the process so its supervisor sees a failure and restarts it.
let service: SloguardProcess | undefined;
afterEach(async () => {
  await service?.cleanup();
  service = undefined;
});

describe('process death', () => {
  it.each(['SIGILL', 'SIGSEGV', 'SIGABRT', 'SIGBUS'] as const)('dies of %s, untrapped', async (signal) => {
    service = await SloguardProcess.start();
    const exit = await service.stop(signal);
    expect(exit).toEqual({ code: null, signal });
  });

  it('stops gracefully on SIGTERM, exit 0', async () => {
    service = await SloguardProcess.start();
    expect(await service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
