import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenDigest } from '../../src/config/auth.js';
import { testApp } from '../helpers/app.js';

const open: Array<Awaited<ReturnType<typeof testApp>>> = [];
afterEach(async () => {
  for (const ctx of open.splice(0)) await ctx.close();
});

async function app(overrides: Parameters<typeof testApp>[0] = {}) {
  const ctx = await testApp(overrides);
  open.push(ctx);
  return ctx;
}

/** Sends raw bytes to a listening app and returns what came back before the socket closed. */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(bytes);
  });
}

describe('limits', () => {
  it('rate-limits the gate per token with 429, Retry-After and the JSON error', async () => {
    const { app: fastify } = await app({ rateLimits: { gatePerMinute: 3, ingestPerMinute: 0 } });
    const codes: number[] = [];
    let last: Awaited<ReturnType<typeof fastify.inject>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fastify.inject('/api/v1/gate?service=checkout');
      codes.push(last.statusCode);
    }
    expect(codes.slice(0, 3).every((code) => code !== 429)).toBe(true);
    expect(codes.slice(3)).toEqual([429, 429]);
    expect(last!.headers['retry-after']).toBeDefined();
    expect(last!.json()).toMatchObject({ error: 'rate_limited' });
    // Reads are not limited.
    expect((await fastify.inject('/api/v1/slos')).statusCode).toBe(200);
  });

  it('counts the gate limit per token: auth runs before the limit and names whose budget a request spends', async () => {
    const tokens = ['gate-token-one-0123456789', 'gate-token-two-0123456789'];
    const { app: fastify } = await app({
      rateLimits: { gatePerMinute: 2, ingestPerMinute: 0 },
      auth: {
        tokens: tokens.map((token, i) => ({
          name: `deployer-${i}`,
          digest: tokenDigest(token),
          scopes: ['gate'],
        })),
        public: [],
      },
    });
    const ask = (token: string) =>
      fastify.inject({ url: '/api/v1/gate?service=checkout', headers: { authorization: `Bearer ${token}` } });
    const first: number[] = [];
    for (let i = 0; i < 3; i++) first.push((await ask(tokens[0]!)).statusCode);
    expect(first.slice(0, 2).every((code) => code !== 429)).toBe(true);
    expect(first[2]).toBe(429);
    // The second token has its own budget, from the same address.
    expect((await ask(tokens[1]!)).statusCode).not.toBe(429);
    // Refused by auth before the limit: an unknown token neither spends a budget nor gets a 429.
    expect((await ask('not-a-known-token-012345')).statusCode).toBe(401);
  });

  it('sets strict security headers: the page set on pages, a CSP that allows nothing on JSON answers', async () => {
    const { app: fastify } = await app();
    const page = await fastify.inject('/');
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    // JSON answers, errors and 404s among them: what protects an answer that is not a page, and no more.
    for (const url of ['/healthz', '/nowhere', '/api/v1/gate']) {
      const answer = await fastify.inject(url);
      expect(answer.headers['content-type'], url).toMatch(/^application\/json/);
      expect(answer.headers['content-security-policy'], url).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect(answer.headers['x-content-type-options'], url).toBe('nosniff');
      expect(answer.headers['x-frame-options'], url).toBe('DENY');
      expect(answer.headers['cross-origin-resource-policy'], url).toBe('same-origin');
      for (const pageOnly of ['referrer-policy', 'cross-origin-opener-policy', 'x-xss-protection'])
        expect(answer.headers[pageOnly], `${url} ${pageOnly}`).toBeUndefined();
    }
  });

  it('logs one line per request at debug level (none at info), with its id, route, status and time', async () => {
    const requestLines = async (logLevel: string) => {
      const lines: string[] = [];
      const ctx = await testApp({}, {}, { logLevel, logStream: { write: (line) => lines.push(line) } });
      try {
        await ctx.app.inject({
          url: '/api/v1/gate?service=checkout',
          headers: { 'x-request-id': 'ci-run-7' },
        });
        await ctx.app.inject('/nowhere');
      } finally {
        await ctx.close();
      }
      return lines.map((line) => JSON.parse(line)).filter((entry) => entry.reqId !== undefined);
    };
    expect(await requestLines('info')).toEqual([]);
    const requests = await requestLines('debug');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      level: 20,
      reqId: 'ci-run-7',
      msg: 'request completed',
      method: 'GET',
      url: '/api/v1/gate?service=checkout',
      statusCode: 200,
    });
    expect(requests[0].responseTimeMs).toBeGreaterThan(0);
    expect(requests[1]).toMatchObject({ url: '/nowhere', statusCode: 404 });
  });

  it('answers malformed HTTP with a JSON error: giant headers 431, a broken request line 400', async () => {
    const { app: fastify } = await app();
    await fastify.listen({ host: '127.0.0.1', port: 0 });
    const address = fastify.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const giant = await raw(
      port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    );
    expect(giant).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(giant.split('\r\n\r\n')[1]!)).toMatchObject({ error: 'headers_too_large' });
    const broken = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(broken).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(broken.split('\r\n\r\n')[1]!)).toMatchObject({ error: 'bad_request' });
    const badUtf8 = await raw(
      port,
      Buffer.from('GET /api/v1/slos/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'),
    );
    expect(badUtf8).toMatch(/^HTTP\/1\.1 (400|404) /);
    expect(Object.keys(JSON.parse(badUtf8.split('\r\n\r\n')[1]!))).toEqual(
      expect.arrayContaining(['error', 'message']),
    );
    expect((await fastify.inject('/healthz')).statusCode).toBe(200);
  });
});
