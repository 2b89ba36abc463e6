import { createServer } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** What the OTLP listener serves: OTLP/HTTP's paths, and nothing else of the API. */
const OTLP_PATHS = new Set(['/v1/traces', '/v1/metrics']);
/** As the main listener: a client that trickles its request must not hold a connection for ever. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface OtlpListener {
  url: string;
  close(): Promise<void>;
}

/**
 * A second listener for the OTLP/HTTP routes alone, on the port OTLP exporters and the Collector use by
 * default (4318). Its requests go through the same fastify app (auth, rate limits, body limits, hooks), so they
 * are answered exactly as on the main port; any other path is 404. Throws the listen error (port in use).
 */
export async function listenForOtlp(app: FastifyInstance, host: string, port: number): Promise<OtlpListener> {
  await app.ready();
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?', 1)[0] ?? '';
    if (OTLP_PATHS.has(path)) {
      app.routing(request, response);
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        error: 'not_found',
        message: `this port serves ${[...OTLP_PATHS].join(' and ')} only; the API is on the main port`,
      }),
    );
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
