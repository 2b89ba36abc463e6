import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NGINX_BINARY, NginxServer, requireBinary } from '../helpers/nginx.js';
import * as ports from '../helpers/ports.js';
import { SloguardProcess } from '../helpers/service.js';
import { Upstream } from '../helpers/upstream.js';

/**
 * The helpers choose a free port, then the server binds it a moment later: on a busy CI machine another
 * process can take it in between. Here the first port offered is already taken by an impostor that answers
 * every request like a ready sloguard, so a helper that trusted any answer on its port would talk to it.
 */
vi.mock('../helpers/ports.js', async (importOriginal) => {
  const original = await importOriginal<typeof ports>();
  return { ...original, freePort: vi.fn(original.freePort) };
});

let impostor: Server | undefined;
afterEach(async () => {
  impostor?.closeAllConnections();
  await new Promise((resolve) => impostor?.close(resolve) ?? resolve(undefined));
  impostor = undefined;
  vi.mocked(ports.freePort).mockReset();
});

/** Takes a free port with a server answering 200 `{"statuses":"evaluated"}`, and offers it first. */
async function takeTheNextPort(): Promise<number> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"statuses":"evaluated"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  impostor = server;
  const address = server.address();
  const taken = typeof address === 'object' && address ? address.port : 0;
  const original = await vi.importActual<typeof ports>('../helpers/ports.js');
  vi.mocked(ports.freePort).mockResolvedValueOnce(taken).mockImplementation(original.freePort);
  return taken;
}

describe('a port taken between choosing and binding', () => {
  it('sloguard starts again on another port, and is its own answer', async () => {
    const taken = await takeTheNextPort();
    const service = await SloguardProcess.start();
    try {
      expect(service.port).not.toBe(taken);
      expect(service.logs.join('')).toContain(`serving ${service.url}/`);
      expect((await service.json<{ slos: unknown[] }>('/api/v1/slos')).body.slos.length).toBeGreaterThan(0);
    } finally {
      await service.cleanup();
    }
  });

  it.runIf(requireBinary(NGINX_BINARY, 'nginx'))('nginx starts again on another port', async () => {
    const upstream = await Upstream.start();
    const taken = await takeTheNextPort();
    const nginx = await NginxServer.start({ upstreamPort: upstream.port });
    try {
      expect(nginx.port).not.toBe(taken);
      expect((await fetch(`${nginx.url}/hello?status=204`)).status).toBe(204);
    } finally {
      await nginx.stop();
      await upstream.stop();
    }
  });
});
