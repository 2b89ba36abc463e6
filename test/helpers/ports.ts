import { createServer } from 'node:net';

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** How many times a server start tries free ports before it gives up. */
const PORT_ATTEMPTS = 5;

/** A start that failed because its chosen port was taken before the server bound it. */
export class PortTaken extends Error {}

/** What servers print when the address they were given to listen on is taken. */
const ADDRESS_TAKEN = /EADDRINUSE|address already in use|cannot bind socket|bind\(\) to .* failed/i;

/** An error for a server that exited before it was ready: PortTaken when its output says the port was taken. */
export function exitedError(what: string, code: number | null, output: string): Error {
  const message = `${what} exited ${code}: ${output}`;
  return ADDRESS_TAKEN.test(output) ? new PortTaken(message) : new Error(message);
}

/**
 * Starts a server on ports chosen free (freePort) a moment before it binds them. On a busy CI machine another
 * test's server or an outgoing connection can take such a port in between: a start that fails with PortTaken
 * is tried again, on new ports.
 */
export async function onFreePorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}
