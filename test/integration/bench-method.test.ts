import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Comparison, spread } from '../../bench/method.js';
import { PacedClientProcess, pacedLoad, quantile } from '../../bench/paced.js';

describe('bench method', () => {
  it('takes each ratio within its round, not best over best', () => {
    const throughput = new Comparison('t', 'ops/s', 'base', 'ours/baseline');
    // Best over best would be 100 / 100 = 1.00; within the rounds the ratios are 0.5 and 2.
    throughput.add(50, 100);
    throughput.add(100, 50);
    expect(throughput.summary().ratio).toEqual({ min: 0.5, median: 1.25, max: 2 });
    const speedUp = new Comparison('s', 'ms', 'base', 'baseline/ours');
    speedUp.add(10, 300);
    expect(speedUp.summary().ratio.median).toBe(30);
  });

  it('reports min / median / max and nearest-rank quantiles', () => {
    expect(spread([3, 1, 2, 10])).toEqual({ min: 1, median: 2.5, max: 10 });
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile(values, 1)).toBe(100);
    expect(quantile(values, 0.5)).toBe(50);
  });
});

describe('paced load', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it('charges a server stall to every request due during it (coordinated omission corrected)', async () => {
    let stalled = false;
    server = createServer((_request, response) => {
      if (!stalled) {
        stalled = true;
        // One answer blocks the whole process for a second: requests due meanwhile wait, unsent or unanswered.
        const until = performance.now() + 1000;
        while (performance.now() < until);
      }
      response.end('ok');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // Client and server share this event loop, as the stall then also delays sending: still charged.
    const result = await pacedLoad(`http://127.0.0.1:${port}/`, 50, 3);
    expect(result.non2xx + result.errors).toBe(0);
    expect(result.latenciesMs).toHaveLength(150);
    // 50 requests fall due during the second, 25 in its first half: timed from their due times each of those
    // waited over 500 ms. Timed from when the client could send them (after the stall, in one burst of
    // cheap answers), only the request that stalled would have.
    expect(result.latenciesMs.filter((ms) => ms > 500).length).toBeGreaterThanOrEqual(20);
  });

  it('paces several targets at once from a client process of its own, run after run, reporting its collections', async () => {
    const answered: Record<string, number> = {};
    server = createServer((request, response) => {
      answered[request.url!] = (answered[request.url!] ?? 0) + 1;
      response.end('ok');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const client = await PacedClientProcess.start();
    try {
      const urls = ['/a', '/b'].map((path) => `http://127.0.0.1:${port}${path}`);
      for (const run of [1, 2]) {
        const { results, clientGc } = await client.run(urls, 100, 1);
        expect(answered).toEqual({ '/a': 100 * run, '/b': 100 * run });
        for (const result of results) {
          expect(result.non2xx + result.errors).toBe(0);
          expect(result.latenciesMs).toHaveLength(100);
          expect(result.answered.map((a) => a.latencyMs).sort((a, b) => a - b)).toEqual(result.latenciesMs);
        }
        // Paced at once, not one after the other (a second apart): the two runs' schedules start together.
        const firstDue = results.map((result) => Math.min(...result.answered.map((a) => a.dueMs)));
        expect(Math.abs(firstDue[0]! - firstDue[1]!)).toBeLessThan(100);
        expect(clientGc.majors).toBeLessThanOrEqual(clientGc.count);
        expect(clientGc.totalMs).toBeGreaterThanOrEqual(clientGc.longestMs);
      }
    } finally {
      await client.stop();
    }
    await expect(client.exited).resolves.toBe(0);
  });
});
