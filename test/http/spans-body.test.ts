import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app.js';

/**
 * The span route reads its body as the pieces the socket delivered (handed to a parsing thread as they are),
 * with the limits and answers of fastify's own body reading: a body past the limit by its Content-Length or as
 * read is refused 413, one that ends short of its Content-Length 400, and one in many pieces counts every span.
 */
const LIMIT = 64 * 1024;
let app: Awaited<ReturnType<typeof testApp>>;

beforeAll(async () => {
  app = await testApp({ maxBodyBytes: LIMIT });
});
afterAll(() => app?.close());

const span = (i: number) =>
  JSON.stringify({
    traceId: (0x1000 + i).toString(16).padStart(16, '0'),
    id: (0x2000 + i).toString(16).padStart(16, '0'),
    kind: 'SERVER',
    name: 'get /pieces',
    timestamp: Date.now() * 1000 - i,
    duration: 1_000,
    localEndpoint: { serviceName: 'pieces' },
  });

/** A JSON list of `count` spans as a stream of one piece per span (no Content-Length: chunked). */
const inPieces = (count: number) =>
  Readable.from(
    Array.from({ length: count }, (_, i) => Buffer.from(`${i === 0 ? '[' : ','}${span(i)}`)).concat(
      Buffer.from(']'),
    ),
  );

const post = (payload: string | Readable, headers: Record<string, string> = {}) =>
  app.app.inject({
    method: 'POST',
    url: '/api/v2/spans',
    headers: { 'content-type': 'application/json', ...headers },
    payload,
  });

describe('POST /api/v2/spans body reading', () => {
  it('counts every span of a body sent in many pieces', async () => {
    const answer = await post(inPieces(200));
    expect(answer.statusCode).toBe(202);
    expect(answer.json()).toEqual({ received: 200, counted: 200 });
  });

  it('refuses a body past the limit 413, by its Content-Length or as read', async () => {
    const declared = await post('[]', { 'content-length': String(LIMIT + 1) });
    expect(declared.statusCode).toBe(413);
    expect(declared.json()).toMatchObject({ error: 'body_too_large' });
    const streamed = await post(inPieces(1_000));
    expect(streamed.statusCode).toBe(413);
    expect(streamed.json()).toMatchObject({ error: 'body_too_large' });
  });

  it('refuses 400 a body that does not match its Content-Length', async () => {
    const short = await post(`[${span(0)}]`, { 'content-length': '9' });
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ error: 'invalid_content_length' });
  });
});
