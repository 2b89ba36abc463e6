import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../src/http/errors.js';
import metricsPlugin from '../../src/http/plugins/metrics.js';
import { createMetrics, type SloguardMetrics } from '../../src/telemetry/metrics.js';
import { countFamiliesStarted, meteredParts } from '../helpers/scrapeFixtures.js';
import { waitFor } from '../helpers/wait.js';

/** About 7 MB of text: far more than the first chunk a client reads before it hangs up. */
const SLOS = 20_000;

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The metrics route alone on a free port of 127.0.0.1, with one scrape streaming at a time. */
async function serve(metrics: SloguardMetrics): Promise<string> {
  app = Fastify();
  installErrorHandling(app);
  await app.register(metricsPlugin, { metrics });
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** The process's own series (CPU, memory, GC) move between two scrapes and are left out. */
const ownLines = (text: string) => text.split('\n').filter((line) => !/^(nodejs|process)_/.test(line));

describe('GET /metrics streamed (issue #23, rss10k)', () => {
  it('stops building when the client hangs up mid-scrape, and frees its slot', async () => {
    const parts = meteredParts(SLOS);
    const familiesStarted = countFamiliesStarted(parts);
    const metrics = createMetrics(parts, { inFlight: 1, deadlineMs: 60_000 });
    const url = new URL(await serve(metrics));

    // A raw client that reads the answer up to the first per-SLO family's first series, then hangs up.
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), '127.0.0.1', () =>
        socket.write(`GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`),
      );
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('sloguard_slo_sli_ratio{')) {
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
    });
    // The slot comes free once the server has seen the hang-up and the build has stopped.
    const probe = await waitFor('the slot freed by the hang-up', () => metrics.scrape());
    probe.destroy();
    // Of seven per-SLO families (each 10 slices here), the hung-up scrape began at most the first two.
    expect(familiesStarted()).toBeGreaterThan(0);
    expect(familiesStarted()).toBeLessThanOrEqual(2);
    const answer = await fetch(`${url.origin}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(ownLines(await answer.text())).toEqual(ownLines(await metrics.registry.metrics()));
  });

  it('refuses a scrape past the limit with 503, a JSON body and Retry-After', async () => {
    const metrics = createMetrics(meteredParts(10), { inFlight: 1, deadlineMs: 60_000 });
    const url = await serve(metrics);
    const held = metrics.scrape()!;
    try {
      const refused = await fetch(`${url}/metrics`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toMatchObject({ error: 'scrapes_busy' });
    } finally {
      held.destroy();
    }
  });
});
