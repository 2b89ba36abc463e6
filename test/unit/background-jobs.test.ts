import { describe, expect, it } from 'vitest';
import { type BackgroundJob, startJobs } from '../../src/service.js';

/** Jobs that write what happens to them into `events`; `failing` names what throws. */
function jobs(names: string[], events: string[], failing: { start?: string; stop?: string } = {}) {
  return names.map(
    (name): BackgroundJob => ({
      name,
      async start() {
        events.push(`start ${name}`);
        if (failing.start === name) throw new Error(`${name} cannot start`);
      },
      stop() {
        events.push(`stop ${name}`);
        if (failing.stop === name) throw new Error(`${name} cannot stop`);
      },
    }),
  );
}

describe('background jobs', () => {
  const logged: string[] = [];
  const log = {
    error: (details: object, message: string) => logged.push(`${message} ${JSON.stringify(details)}`),
  };

  it('start in order and stop in reverse, once', async () => {
    const events: string[] = [];
    const stop = await startJobs(jobs(['checkpoints', 'evaluation', 'tailers'], events), log);
    expect(events).toEqual(['start checkpoints', 'start evaluation', 'start tailers']);
    await stop();
    await stop();
    expect(events.slice(3)).toEqual(['stop tailers', 'stop evaluation', 'stop checkpoints']);
  });

  it('stop the job that failed to start and those before it, in reverse, and leave the rest unstarted', async () => {
    const events: string[] = [];
    const started = startJobs(
      jobs(['checkpoints', 'tailers', 'scrapers'], events, { start: 'tailers' }),
      log,
    );
    await expect(started).rejects.toThrow('tailers cannot start');
    expect(events).toEqual(['start checkpoints', 'start tailers', 'stop tailers', 'stop checkpoints']);
    expect(logged.at(-1)).toMatch(/^background job failed to start; stopping the service .*"job":"tailers"/);
  });

  it('stop every job even when one of them fails to stop', async () => {
    const events: string[] = [];
    const stop = await startJobs(
      jobs(['checkpoints', 'alerting', 'tailers'], events, { stop: 'alerting' }),
      log,
    );
    await stop();
    expect(events.slice(3)).toEqual(['stop tailers', 'stop alerting', 'stop checkpoints']);
    expect(logged.at(-1)).toMatch(/^background job failed to stop .*"job":"alerting"/);
  });
});
